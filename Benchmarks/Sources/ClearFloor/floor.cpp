// The floor MarketBench holds OrderBook.clear() to: what a plain C++ clearing costs on the same bids, without the
// price rules, the awards or any check.
#include "ClearFloor.h"
#include <algorithm>
#include <utility>
#include <vector>

double clear_floor(const double *prices, const double *quantities, const unsigned char *buys, long count, double *quantity) {
    using Step = std::pair<double, double>;
    std::vector<Step> buyers, sellers;
    buyers.reserve(count);
    sellers.reserve(count);
    for (long k = 0; k < count; k++) (buys[k] ? buyers : sellers).emplace_back(prices[k], quantities[k]);
    std::sort(buyers.begin(), buyers.end(), [](const Step &a, const Step &b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::sort(sellers.begin(), sellers.end(), [](const Step &a, const Step &b) { return a.first != b.first ? a.first < b.first : a.second < b.second; });
    size_t i = 0, j = 0;
    double demand = 0, supply = 0, price = 0;
    bool buyerMarginal = false;
    while (i < buyers.size() && j < sellers.size() && buyers[i].first >= sellers[j].first) {
        double nextDemand = demand + buyers[i].second, nextSupply = supply + sellers[j].second;
        if (nextDemand > nextSupply) {
            supply = nextSupply;
            price = buyers[i].first;
            buyerMarginal = true;
            j++;
        } else if (nextDemand < nextSupply) {
            demand = nextDemand;
            price = sellers[j].first;
            buyerMarginal = false;
            i++;
        } else {
            demand = nextDemand;
            supply = nextSupply;
            price = (buyers[i].first + sellers[j].first) / 2;
            buyerMarginal = false;
            i++;
            j++;
        }
    }
    *quantity = buyerMarginal ? supply : demand;
    return price;
}
