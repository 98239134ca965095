#!/usr/bin/env python3
"""A market written from docs/PROTOCOL.md and docs/MARKET.md only: collect bids until gate closure, clear them
as a uniform-price double auction, publish the clearing and every household's awards.

Run by GridRig with GRIDRIG_BUS_PUBLISH, GRIDRIG_BUS_SUBSCRIBE and GRIDRIG_HOUSEHOLDS (or GRIDRIG_HOUSEHOLDS_FILE) set:
    python3 examples/python/market.py
"""
import os

from gridrig_bus import Participant

OFFSET = 0.0001


def clear(bids, cap):
    """docs/MARKET.md: the walk, the price rules, then pro-rata allocation at the price."""
    buyers = sorted((b for b in bids if b["side"] == "buy"), key=lambda b: (-b["price"], b["quantity"]))
    sellers = sorted((b for b in bids if b["side"] == "sell"), key=lambda b: (b["price"], b["quantity"]))
    unresponsive = sum(b["quantity"] for b in buyers if b["price"] >= cap)
    if not buyers or not sellers:
        price, quantity, kind = ((buyers[0]["price"] if buyers else 0) + (sellers[0]["price"] if sellers else cap)) / 2, 0.0, "null"
    elif buyers[0]["price"] < sellers[0]["price"]:
        price, quantity, kind = (buyers[0]["price"] + sellers[0]["price"]) / 2, 0.0, "null"
    else:
        i = j = 0
        demand = supply = 0.0
        while i < len(buyers) and j < len(sellers) and buyers[i]["price"] >= sellers[j]["price"]:
            d, s = demand + buyers[i]["quantity"], supply + sellers[j]["quantity"]
            if d > s:
                supply, a, b, last = s, buyers[i]["price"], buyers[i]["price"], "buyer"
                j += 1
            elif d < s:
                demand, a, b, last = d, sellers[j]["price"], sellers[j]["price"], "seller"
                i += 1
            else:
                demand, supply, a, b, last = d, s, buyers[i]["price"], sellers[j]["price"], "vertical"
                i += 1
                j += 1
        quantity = supply if last == "buyer" else demand
        next_buy = buyers[i]["price"] if i < len(buyers) else None
        next_sell = sellers[j]["price"] if j < len(sellers) else None
        if last != "vertical":
            price, kind = a, last
        elif next_buy == a:
            price, kind = a, "buyer"
        elif next_sell == b:
            price, kind = b, "seller"
        else:
            price = (a + b) / 2
            if next_buy is not None and next_buy > price:
                price = next_buy + OFFSET
            elif next_sell is not None and next_sell < price:
                price = next_sell - OFFSET
            low = max(b, next_buy if next_buy is not None else b)
            high = min(a, next_sell if next_sell is not None else a)
            price, kind = min(max(price, low), high), "exact" if a == b else "price"
    if quantity < unresponsive:
        price, kind = cap, "failure"
    price = min(max(price, -cap), cap)

    def share(side, curve):
        """What the bids exactly at the price share, and its fraction of their total."""
        better = sum(b["quantity"] for b in curve if (b["price"] > price if side == "buy" else b["price"] < price))
        at = sum(b["quantity"] for b in curve if b["price"] == price)
        shared = min(max(quantity - better, 0), at)
        return (shared, shared / at) if at > 0 else (0.0, 0.0)

    shares = {"buy": share("buy", buyers), "sell": share("sell", sellers)}
    fractions = {side: shares[side][1] for side in shares}
    marginal = shares["buy"] if kind in ("buyer", "failure") else shares["sell"] if kind == "seller" else (0.0, 0.0)
    awards = []
    for bid in bids:
        better = bid["price"] > price if bid["side"] == "buy" else bid["price"] < price
        won = bid["quantity"] if better else bid["quantity"] * fractions[bid["side"]] if bid["price"] == price else 0.0
        awards.append({"id": bid["id"], "side": bid["side"], "quantity": won})
    return price, quantity, kind, marginal, max(0.0, unresponsive - quantity), awards


def households():
    """The households GridRig names: GRIDRIG_HOUSEHOLDS_FILE (one per line, for more than a variable holds), or
    GRIDRIG_HOUSEHOLDS."""
    if os.environ.get("GRIDRIG_HOUSEHOLDS_FILE"):
        with open(os.environ["GRIDRIG_HOUSEHOLDS_FILE"]) as listing:
            return [line.strip() for line in listing if line.strip()]
    return os.environ["GRIDRIG_HOUSEHOLDS"].split(",")


def keep(books, sender, bids):
    """A household's later bids in the interval replace its earlier ones."""
    books[sender] = bids


def main():
    houses = households()
    known = set(houses)
    bus = Participant("market", "market", ["gate", "bids/"])
    interval, cap, books, refused = None, 1.0, {}, {}

    def refuse(fault, detail):
        """An error naming the refused message, stamped with the open interval; count is per fault so far."""
        refused[fault] = refused.get(fault, 0) + 1
        bus.send("error", {"fault": fault, "detail": detail, "about": sender, "topic": topic, "count": refused[fault]}, interval)

    for topic, message in bus.messages():
        kind, sender = message.get("type"), message.get("sender")
        if kind == "interval" and sender == "conductor":
            interval, cap, books = message["interval"], message["price_cap"], {}
        elif kind == "bids":
            if sender not in known:
                refuse("unknown-participant", sender)
            elif message.get("interval") != interval:
                refuse("closed-interval", str(message.get("interval")))
            elif any(b["quantity"] <= 0 or not b["id"].startswith(sender + "/") for b in message["bids"]):
                refuse("invalid-bid", "a quantity <= 0 or an id not under the house")
            else:
                keep(books, sender, message["bids"])
        elif kind == "gate" and sender == "conductor" and message.get("interval") == interval:
            bids = [bid for house in sorted(books) for bid in books[house]]
            price, quantity, clearing_type, marginal, unserved, awards = clear(bids, cap)
            bus.send("clearing", {"price": price, "quantity": quantity, "clearing_type": clearing_type, "marginal_quantity": marginal[0],
                                  "marginal_fraction": marginal[1], "unserved_demand": unserved, "bid_count": len(bids)}, interval)
            by_house = {}
            for award in awards:
                by_house.setdefault(award["id"].split("/", 1)[0], []).append(award)
            for house in houses:
                bus.send("awards", {"house": house, "price": price, "awards": by_house.get(house, [])}, interval)
            interval = None


if __name__ == "__main__":
    main()
