"""A hostile peer on a GridRig bus: it publishes garbage and forgeries as fast as it can, to show what the broker
keeps out (docs/PROTOCOL.md, "Security"). Point it at a bench's broker before trusting the bench's network.

    python3 rogue.py PUBLISH_ENDPOINT SECONDS [--subscribe ENDPOINT] [--server-key FILE]

It cycles through: random bytes; one-frame and three-frame messages; bids with negative prices for an interval
nobody opened; 100 kB payloads; awards that claim to come from the market and give h2's charger 50 kW in the
open interval (learned by subscribing, when the broker lets it); an interval the conductor never opened; time
requests that answer the clock for h1 and h2; and messages from a sender that is no participant. With --server-key (a broker.key certificate) it tries CURVE with a
key of its own, which no rig lists. At the end it prints what it sent as JSON.
"""
import argparse
import json
import os
import time

import zmq
import zmq.auth


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("publish")
    parser.add_argument("seconds", type=float)
    parser.add_argument("--subscribe")
    parser.add_argument("--server-key")
    args = parser.parse_args()
    context = zmq.Context()
    sockets = []
    pub = context.socket(zmq.PUB)
    sockets.append(pub)
    sub = context.socket(zmq.SUB) if args.subscribe else None
    if sub is not None:
        sockets.append(sub)
    if args.server_key:
        server, _ = zmq.auth.load_certificate(args.server_key)
        public, secret = zmq.curve_keypair()
        for socket in sockets:
            socket.curve_publickey, socket.curve_secretkey, socket.curve_serverkey = public, secret, server
    for socket in sockets:
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, 10_000)
    pub.connect(args.publish)
    if sub is not None:
        sub.connect(args.subscribe)
        sub.setsockopt_string(zmq.SUBSCRIBE, "interval")
    interval, seq, sent, heard = 1, 0, {}, 0

    def message(type_, sender, body, number):
        nonlocal seq
        seq += 1
        return json.dumps(dict(body, v=1, type=type_, sender=sender, seq=seq, interval=number)).encode()

    big = [b"bids/h3", message("bids", "h3", {"house": "h3", "bids": [], "pad": "x" * 100_000}, interval)]
    forgeries = [
        ("random bytes", lambda: [os.urandom(8), os.urandom(64)]),
        ("one frame", lambda: [b"bids/h1"]),
        ("three frames", lambda: [b"bids/h1", message("bids", "h1", {"house": "h1", "bids": []}, interval), b"extra"]),
        ("negative bids for an unknown interval", lambda: [b"bids/h1", message(
            "bids", "h1", {"house": "h1", "bids": [{"id": "h1/ev", "side": "buy", "price": -5, "quantity": 7}]}, 9999)]),
        ("100 kB payload", lambda: big),
        ("forged awards", lambda: [b"awards/h2", message("awards", "market", {"house": "h2", "price": 0.01, "awards": [
            {"id": "h2/ev", "side": "buy", "quantity": 50, "price": 0.01}]}, interval)]),
        ("forged interval", lambda: [b"interval", message("interval", "conductor", {
            "start": 0, "length": 300, "price_cap": 1, "bid_deadline_ms": 1, "clearing_deadline_ms": 1,
            "dispatch_deadline_ms": 1}, 777)]),
        ("unknown sender", lambda: [b"bids/rogue", message("bids", "rogue", {"house": "rogue", "bids": []}, interval)]),
        ("forged answers for others", lambda: [b"time/h1", message("time-requests", "h1", {"requests": {"h1": None, "h2": None}}, interval)]),
    ]
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        if sub is not None:
            while sub.poll(0):
                try:
                    interval = json.loads(sub.recv_multipart()[1])["interval"]
                    heard += 1
                except (ValueError, KeyError, IndexError):
                    pass
        for name, frames in forgeries:
            try:
                pub.send_multipart(frames(), zmq.NOBLOCK)
                sent[name] = sent.get(name, 0) + 1
            except zmq.Again:
                pass
    print(json.dumps({"sent": sent, "intervals_heard": heard}))


if __name__ == "__main__":
    main()
