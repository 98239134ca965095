#!/usr/bin/env python3
"""Where a lockstep run's wall time went, from its capture.jsonl alone: the gaps between the conductor's ticks,
split by what the step carried (an interval's start, with the bids, the clearing, the awards and the writes; a
control step with grants; a control step without), and the phases of an interval's start, each timed from the
message before it. Usage: step-phases.py <run folder>"""
import collections
import json
import sys


def statistics(name, gaps):
    gaps = sorted(gaps)
    if not gaps:
        return print(f"{name:26s} none")
    print(f"{name:26s} {len(gaps):6d} steps  {sum(gaps):8.2f} s  median {gaps[len(gaps) // 2] * 1e3:8.3f} ms  "
          f"mean {sum(gaps) / len(gaps) * 1e3:8.3f} ms  p90 {gaps[int(len(gaps) * 0.9)] * 1e3:8.3f} ms")


def main(folder):
    ticks, granted = [], set()
    arrivals = collections.defaultdict(lambda: collections.defaultdict(list))
    for line in open(f"{folder}/capture.jsonl"):
        entry = json.loads(line)
        message = entry.get("message")
        if not isinstance(message, dict) or "interval" not in message:
            continue
        kind, interval, received = message.get("type"), message["interval"], entry["received"]
        if kind == "tick":
            ticks.append((received, interval, message["time"]))
        elif kind in ("grant", "grants"):
            granted.add((interval, message["time"]))
        arrivals[interval][kind].append(received)
    starts, with_grants, without = [], [], []
    for index in range(len(ticks) - 1):
        received, interval, time = ticks[index]
        gap = ticks[index + 1][0] - received
        if index == 0 or ticks[index - 1][1] != interval:
            starts.append(gap)
        elif (interval, time) in granted:
            with_grants.append(gap)
        else:
            without.append(gap)
    print(f"{folder}: {len(ticks)} ticks, {ticks[-1][0] - ticks[0][0]:.2f} s from the first to the last")
    statistics("interval starts", starts)
    statistics("control steps with grants", with_grants)
    statistics("control steps without", without)
    phases = collections.defaultdict(list)
    for interval, seen in arrivals.items():
        tick_times = sorted(seen["tick"])
        needed = ["interval", "bids", "gate", "clearing", "awards", "dispatch"]
        if len(tick_times) < 2 or any(not seen[kind] for kind in needed):
            continue
        marks = [("bids, the last", max(seen["bids"])), ("gate", min(seen["gate"])), ("clearing", min(seen["clearing"])),
                 ("awards, the last", max(seen["awards"])), ("dispatch reports, the last", max(seen["dispatch"])),
                 ("the next tick", tick_times[1])]
        before = tick_times[0]
        for name, at in marks:
            phases[name].append(at - before)
            before = at
    print("an interval's start, each phase from the one before (median):")
    for name, gaps in phases.items():
        print(f"  {name:28s} {sorted(gaps)[len(gaps) // 2] * 1e3:8.3f} ms")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
