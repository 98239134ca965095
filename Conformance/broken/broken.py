#!/usr/bin/env python3
"""The kit's broken controllers: the Python examples (examples/python) with one deliberate bug each, every one a
fault seen in real firmware. `gridrig certify` must fail each on the requirement named for it (docs/CONFORMANCE.md),
which is how the kit proves its checks catch what they exist for.

    python3 Conformance/broken/broken.py BUG      # runs as the example it breaks, with GridRig's environment
    python3 Conformance/broken/broken.py --list   # BUG ROLE REQUIREMENT CLAIMS CASE, one a line ("-": none)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))

import gridrig_bus  # noqa: E402
import household  # noqa: E402
import market  # noqa: E402

BUGS = {}


def bug(name, role, requirement, claims=None, case=None):
    """A broken controller for `role` failing `requirement`; `claims` names the house it needs (a file in
    Conformance/claims/), `case` the case that shows it when it needs one."""
    def register(patch):
        BUGS[name] = (role, requirement, patch, claims, case)
        return patch
    return register


def on_send(change):
    """Patch every message the participant sends: `change(participant, type, body, interval, send)`."""
    original = gridrig_bus.Participant.send

    def send(self, type_, body, interval=None):
        change(self, type_, body, interval, lambda t, b, i: original(self, t, b, i))
    gridrig_bus.Participant.send = send


def on_clearing(change):
    """Patch the market's clearing: `change(bids, price, quantity, kind, marginal, unserved, awards)` returns them,
    changed."""
    clear = market.clear
    market.clear = lambda bids, cap: change(bids, *clear(bids, cap))


class Clock:
    """A stand-in for the time module whose time() is another clock."""
    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now()

    def __getattr__(self, name):
        return getattr(time, name)


# Households: the house under test runs examples/python/household.py with one bug.

@bug("landed-on-monotonic-clock", "household", "HH-DISPATCH-TRUTH")
def _():
    household.time = Clock(time.monotonic)          # landed_at on the host's uptime, not the Unix epoch


@bug("landed-before-ack", "household", "HH-DISPATCH-TRUTH")
def _():
    household.time = Clock(lambda: time.time() - 0.2)   # stamps the time it sent the write, less the round trip


@bug("reports-intended-value", "household", "HH-DISPATCH-TRUTH")
def _():
    apply = household.apply
    household.apply = lambda device, value: (apply(device, round(value * 0.8, 1))[0], value)   # writes less than it reports


@bug("stale-telemetry", "household", "HH-TELEMETRY-TRUTH", case="comms-loss")
def _():
    read = household.Device.read
    last = {}

    def cached(self, address, count, unit, table="holding"):
        try:
            last[(self.id, address)] = read(self, address, count, unit, table)
        except IOError:
            if (self.id, address) not in last:
                raise
        return last[(self.id, address)]
    household.Device.read = cached


def keep_offering(kind):
    """Bids a device's last bids again while it does not answer."""
    last = {}

    def patch(self, type_, body, interval, send):
        if type_ == "bids":
            own = [bid for bid in body["bids"] if bid["id"].endswith("/" + kind)]
            if own:
                last[kind] = own
            elif kind in last:
                body = dict(body, bids=body["bids"] + last[kind])
        send(type_, body, interval)
    on_send(patch)


@bug("bids-from-lost-device", "household", "HH-LOST-DEVICE", case="comms-loss")
def _():
    keep_offering("ev")


@bug("battery-bids-from-lost-device", "household", "HH-LOST-DEVICE", claims="battery-pv-phoenix", case="comms-loss")
def _():
    keep_offering("battery")


@bug("battery-power-misreported", "household", "HH-DISPATCH-TRUTH", claims="battery-pv-phoenix")
def _():
    apply = household.apply

    def tenfold(device, value):                     # reports the battery's power in the wrong unit (W/100)
        name, taken = apply(device, value)
        return name, taken * 10 if name == "power" and taken is not None else taken
    household.apply = tenfold


@bug("charger-register-off-by-two", "household", "HH-WRITES")
def _():
    write = household.Device.write
    household.Device.write = lambda self, address, registers, unit, coil=False: write(self, 1212 if address == 1210 else address, registers, unit, coil)


@bug("setpoint-in-degrees-not-tenths", "household", "HH-WRITES")
def _():
    registers = household.registers
    household.registers = lambda fmt, value: registers(fmt, int(value / 10)) if fmt == "h" else registers(fmt, value)


@bug("seq-never-counts", "household", "HH-PROTOCOL")
def _():
    def stuck(self, type_, body, interval, send):
        self.seq = 0
        send(type_, body, interval)
    on_send(stuck)


@bug("goodbye-unanswered", "household", "HH-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: None if type_ == "goodbye" else send(type_, body, interval))


@bug("bids-for-unopened-interval", "household", "HH-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: send(type_, body, interval + 1000 if type_ == "bids" else interval))


@bug("telemetry-malformed", "household", "HH-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: send(type_, dict(body, devices="none") if type_ == "telemetry" else body, interval))


@bug("bids-negative-quantity", "household", "HH-PROTOCOL")
def _():
    def negative(self, type_, body, interval, send):
        if type_ == "bids":
            body = dict(body, bids=[dict(bid, quantity=-bid["quantity"]) for bid in body["bids"]])
        send(type_, body, interval)
    on_send(negative)


@bug("charger-ignores-award", "household", "HH-FOLLOW")
def _():
    household.ev_plan = lambda device, award, start, length: [(start, 16.0)]


@bug("heat-pump-ignores-award", "household", "HH-FOLLOW")
def _():
    def always_on(device, award, start, length):
        run_edge = device.setpoint - device.below if device.cooling else device.setpoint + device.above
        return [(start, run_edge)]
    household.thermostat_plan = always_on


@bug("watchdog-not-refreshed", "household", "HH-WATCHDOG")
def _():
    os.environ["GRIDRIG_STEPS"] = "0"                 # acts at interval starts only: the charger's 60-s watchdog expires


@bug("heat-pump-never-runs", "household", "HH-COMFORT")
def _():
    def never(device, award, start, length):
        return [(start, device.setpoint + device.above + 6 if device.cooling else device.setpoint - device.below - 4)]
    household.thermostat_plan = never


# Markets: examples/python/market.py with one bug.

@bug("awards-published-twice", "market", "MK-PROTOCOL")
def _():
    def twice(self, type_, body, interval, send):
        send(type_, body, interval)
        if type_ == "awards":
            send(type_, body, interval)
    on_send(twice)


@bug("awards-before-clearing", "market", "MK-PROTOCOL")
def _():
    held = []

    def late_clearing(self, type_, body, interval, send):
        if type_ == "clearing":
            held.append((type_, body, interval))
            return
        send(type_, body, interval)
        while held:
            send(*held.pop())
    on_send(late_clearing)


@bug("marginal-fields-zero", "market", "MK-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: send(
        type_, dict(body, marginal_quantity=0.0, marginal_fraction=0.0) if type_ == "clearing" else body, interval))


@bug("clearing-type-always-buyer", "market", "MK-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: send(
        type_, dict(body, clearing_type="buyer") if type_ == "clearing" else body, interval))


@bug("award-price-differs", "market", "MK-PROTOCOL")
def _():
    on_send(lambda self, type_, body, interval, send: send(
        type_, dict(body, price=body["price"] + 0.01) if type_ == "awards" else body, interval))


@bug("margin-filled-in-curve-order", "market", "MK-PROTOCOL")
def _():
    def curve_order(bids, price, quantity, kind, marginal, unserved, awards):
        by_id = {(bid["id"], bid["side"]): bid for bid in bids}
        for side in ("buy", "sell"):
            at = [award for award in awards if award["side"] == side and by_id[(award["id"], award["side"])]["price"] == price]
            left = sum(award["quantity"] for award in at)
            for award in sorted(at, key=lambda a: a["id"]):       # whole, first come first served: sums stay right
                award["quantity"] = min(by_id[(award["id"], side)]["quantity"], left)
                left -= award["quantity"]
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(curve_order)


@bug("seq-never-counts-market", "market", "MK-PROTOCOL")
def _():
    BUGS["seq-never-counts"][2]()


@bug("clears-at-midpoint", "market", "MK-REFERENCE")
def _():
    def midpoint(bids, price, quantity, kind, marginal, unserved, awards):
        buys = [bid["price"] for bid in bids if bid["side"] == "buy"]
        sells = [bid["price"] for bid in bids if bid["side"] == "sell"]
        if buys and sells and kind != "null":
            price = (max(buys) + min(sells)) / 2
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(midpoint)


@bug("over-awards-buyers", "market", "MK-RULE")
def _():
    def generous(bids, price, quantity, kind, marginal, unserved, awards):
        for award in awards:
            if award["side"] == "buy":
                award["quantity"] *= 1.1
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(generous)


@bug("stops-clearing", "market", "MK-EVERY-INTERVAL")
def _():
    # A leak: after interval 6 it publishes nothing more.
    on_send(lambda self, type_, body, interval, send: None if type_ in ("clearing", "awards") and interval > 6 else send(type_, body, interval))


@bug("clears-slowly", "market", "MK-LATENCY")
def _():
    def slow(self, type_, body, interval, send):
        if type_ == "clearing" and interval % 10 == 0:       # a garbage-collection pause every tenth interval
            time.sleep(0.7)
        send(type_, body, interval)
    on_send(slow)


# Markets a scripted book shows (Conformance/market/books/): all but rebids-appended pass every neighbourhood case.

@bug("vertical-midpoint-unmoved", "market", "MK-REFERENCE", case="vertical-segments")
def _():
    def unmoved(bids, price, quantity, kind, marginal, unserved, awards):
        if kind == "price":             # a vertical crossing: the midpoint, even past a rejected bid
            taken = {(award["id"], award["side"]) for award in awards if award["quantity"] > 0}
            accepted = [bid for bid in bids if (bid["id"], bid["side"]) in taken]
            price = (min(bid["price"] for bid in accepted if bid["side"] == "buy")
                     + max(bid["price"] for bid in accepted if bid["side"] == "sell")) / 2
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(unmoved)


@bug("zero-price-means-no-trade", "market", "MK-REFERENCE", case="ties-at-cap-and-zero")
def _():
    def falsy(bids, price, quantity, kind, marginal, unserved, awards):
        if not price:                   # a price of 0 taken for "no price": nothing trades
            quantity, kind, marginal = 0.0, "null", (0.0, 0.0)
            for award in awards:
                award["quantity"] = 0.0
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(falsy)


@bug("empty-side-priced-at-zero", "market", "MK-REFERENCE", case="one-side-empty")
def _():
    def zero(bids, price, quantity, kind, marginal, unserved, awards):
        if kind == "null" and len({bid["side"] for bid in bids}) < 2:   # no market on one side: price 0
            price = 0.0
        return price, quantity, kind, marginal, unserved, awards
    on_clearing(zero)


@bug("rebids-appended", "market", "MK-REFERENCE", case="flood")
def _():
    market.keep = lambda books, sender, bids: books.setdefault(sender, []).extend(bids)   # a re-bid adds, not replaces


@bug("book-truncated", "market", "MK-RULE", case="crowd")
def _():
    clear = market.clear
    market.clear = lambda bids, cap: clear(bids[:4096], cap)      # a fixed buffer of 4,096 bids: the rest get nothing


@bug("cleared-before-the-gate", "market", "MK-REFERENCE", case="last-moment")
def _():
    keep, clear = market.keep, market.clear
    everyone, early = set(market.households()), {}

    def keep_and_clear(books, sender, bids):
        keep(books, sender, bids)
        if set(books) >= everyone and not early:     # every household has bid: clear now, publish at the gate
            early["bids"] = [bid for house in sorted(books) for bid in books[house]]
    market.keep = keep_and_clear
    market.clear = lambda bids, cap: clear(early.pop("bids", bids), cap)


@bug("pv-limit-ignored", "household", "HH-FOLLOW", claims="battery-pv-phoenix", case="pv-curtailment")
def _():
    household.pv_plan = lambda device, sold, start, length: []    # never limits the inverter to what it sold


def main():
    if sys.argv[1:] == ["--list"]:
        for name, (role, requirement, _, claims, case) in BUGS.items():
            print(name, role, requirement, claims or "-", case or "-")
        return
    if len(sys.argv) != 2 or sys.argv[1] not in BUGS:
        raise SystemExit(f"usage: broken.py BUG | --list; BUG is one of {', '.join(BUGS)}")
    role, _, patch, _, _ = BUGS[sys.argv[1]]
    patch()
    (household if role == "household" else market).main()


if __name__ == "__main__":
    main()
