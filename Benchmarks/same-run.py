#!/usr/bin/env python3
"""Compares two runs of one rig (two report folders): the series and the write log byte for byte, apart from the
wall-clock column; the capture message for message, apart from wall-clock fields, sequence numbers and how the
clock's grants travel (a shared grant counts as a grant to each participant it names, a shared answer as each
one's own time request, and a ready says nothing of how its sender takes grants); the verdict assertion by
assertion, apart from what wall-clock latencies measure. Exits 1 on the first difference, naming it."""
import json
import re
import sys

WALL = re.compile(r'"(received|landed_at|awards_received_at)": -?[0-9.e+-]+')
WALL_TIMED = {"clearing-latency", "dispatch-latency"}


def each_participant(entry):
    """The entry as the messages of revision 1.1 would carry it: one grant or time request a participant."""
    message = entry.get("message")
    if not isinstance(message, dict):
        return [entry]
    message.pop("seq", None)
    if message.get("type") == "ready":
        message.pop("grants", None)
    if message.get("type") == "grants":
        return [dict(entry, topic=f"grant/{name}", message={**{k: v for k, v in message.items() if k != "participants"}, "type": "grant",
                                                           "participant": name})
                for name in message["participants"]]
    if message.get("type") == "time-requests":
        return [dict(entry, topic=f"time/{name}", message={**{k: v for k, v in message.items() if k != "requests"}, "type": "time-request",
                                                          "sender": name, **({} if time is None else {"time": time})})
                for name, time in message["requests"].items()]
    return [entry]


def capture(folder):
    return sorted(WALL.sub(r'"\1": 0', json.dumps(split, sort_keys=True))
                  for line in open(f"{folder}/capture.jsonl") for split in each_participant(json.loads(line)))


def writes(folder):
    return sorted(line.split(",", 1)[1] for line in open(f"{folder}/writes.csv"))


def verdict(folder):
    results = json.load(open(f"{folder}/results.json"))["assertions"]
    return [(a["name"], a["passed"], None if a["name"] in WALL_TIMED else a["measured"]) for a in results]


def main(before, after):
    if open(f"{before}/series.csv", "rb").read() != open(f"{after}/series.csv", "rb").read():
        sys.exit(f"series.csv differs: {before} {after}")
    for name, read in (("writes.csv", writes), ("capture.jsonl", capture), ("verdict", verdict)):
        if read(before) != read(after):
            sys.exit(f"{name} differs: {before} {after}")
    print(f"same: {after} (series, writes, capture, verdict)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
