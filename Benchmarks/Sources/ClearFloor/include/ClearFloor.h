#ifndef CLEAR_FLOOR_H
#define CLEAR_FLOOR_H
#ifdef __cplusplus
extern "C" {
#endif

/// The least a clearing can cost: both curves sorted with std::sort (price, then quantity) and walked to where
/// they meet. Returns the price there and sets *quantity to the quantity traded.
double clear_floor(const double *prices, const double *quantities, const unsigned char *buys, long count, double *quantity);

#ifdef __cplusplus
}
#endif
#endif
