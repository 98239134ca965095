"""The GridRig bus protocol v1 in a few lines of pyzmq, written from docs/PROTOCOL.md only.

A participant publishes to the broker's publish endpoint and subscribes at its subscribe endpoint. Every message
is two frames: the topic, and one UTF-8 JSON object carrying v, type, interval, sender and seq plus the body.
"""
import json
import os
import time

import zmq
import zmq.auth

VERSION = 1

# Who alone sends each message type; anyone else's is refused as not-entitled.
SOLE_SENDER = {"tick": "conductor", "interval": "conductor", "gate": "conductor", "grant": "conductor",
               "grants": "conductor", "clearing": "market", "awards": "market"}


def curve_keys(name):
    """This participant's CURVE keys when the bus authenticates: (public, secret, broker's public), or None.

    GridRig puts them in the environment of a controller it starts; a controller started elsewhere (an endpoint)
    names a folder of certificates made by `gridrig keys` in GRIDRIG_BUS_KEYS.
    """
    if os.environ.get("GRIDRIG_BUS_SECRET_KEY"):
        return (os.environ["GRIDRIG_BUS_PUBLIC_KEY"].encode(), os.environ["GRIDRIG_BUS_SECRET_KEY"].encode(),
                os.environ["GRIDRIG_BUS_SERVER_KEY"].encode())
    folder = os.environ.get("GRIDRIG_BUS_KEYS")
    if not folder:
        return None
    public, secret = zmq.auth.load_certificate(os.path.join(folder, name + ".key_secret"))
    server, _ = zmq.auth.load_certificate(os.path.join(folder, "broker.key"))
    return public, secret, server


class Participant:
    """One participant: join the bus, say ready until the first interval, send and receive messages."""

    def __init__(self, name, role, topics):
        self.name = name
        self.seq = 0
        self.context = zmq.Context()
        keys = curve_keys(name)
        self.pub = self.context.socket(zmq.PUB)
        self.sub = self.context.socket(zmq.SUB)
        for socket in (self.pub, self.sub):
            socket.setsockopt(zmq.LINGER, 200)
            # ZeroMQ queues 1,000 messages per socket by default and drops the rest: a market of 10,000 households
            # would lose bids coming in and awards going out.
            socket.setsockopt(zmq.SNDHWM, 100_000)
            socket.setsockopt(zmq.RCVHWM, 100_000)
            if keys:
                socket.curve_publickey, socket.curve_secretkey, socket.curve_serverkey = keys
        self.pub.connect(os.environ["GRIDRIG_BUS_PUBLISH"])
        self.sub.connect(os.environ["GRIDRIG_BUS_SUBSCRIBE"])
        for topic in list(topics) + ["interval", "goodbye/conductor", "hello/" + name]:
            self.sub.setsockopt_string(zmq.SUBSCRIBE, topic)
        self.started = False
        self.last_ready = 0.0
        self.join(role)

    def send(self, type_, body, interval=None):
        self.seq += 1
        message = dict(body, v=VERSION, type=type_, sender=self.name, seq=self.seq)
        if interval is not None:
            message["interval"] = interval
        self.pub.send_multipart([topic_of(type_, self.name, body).encode(), json.dumps(message).encode()])

    def join(self, role):
        """Publish hello until it comes back through the broker: from then on no message for us is missed."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.send("hello", {"role": role, "software": "gridrig python example"})
            if self.sub.poll(20):
                topic, payload = self.sub.recv_multipart()
                if topic.decode() == "hello/" + self.name:
                    self.send("ready", {})
                    self.last_ready = time.monotonic()
                    return
        raise SystemExit(f"{self.name}: no answer from the broker within 10 s")

    def messages(self, idle=None):
        """Yield (topic, message) until the conductor says goodbye; refuse what is not protocol v1. `idle` is called
        whenever 50 ms pass without a message: a controller on its own clock does its timed work there."""
        while True:
            if not self.started and time.monotonic() - self.last_ready > 0.2:
                self.send("ready", {})
                self.last_ready = time.monotonic()
            if not self.sub.poll(50):
                if idle is not None and self.started:
                    idle()
                continue
            topic, payload = self.sub.recv_multipart()
            topic = topic.decode()
            try:
                message = json.loads(payload)
                if not isinstance(message, dict):
                    raise ValueError("not a JSON object")
            except ValueError as error:
                self.send("error", {"fault": "malformed", "detail": str(error), "topic": topic, "count": 1})
                continue
            if message.get("v") != VERSION:
                self.send("error", {"fault": "version", "detail": f"version {message.get('v')}", "topic": topic, "count": 1})
                continue
            if message.get("sender") == self.name:
                continue
            entitled = SOLE_SENDER.get(message.get("type"))
            if entitled and message.get("sender") != entitled:
                self.send("error", {"fault": "not-entitled", "detail": f"only {entitled} sends {message.get('type')} messages",
                                    "about": message.get("sender"), "topic": topic, "count": 1})
                continue
            if message.get("type") == "interval":
                self.started = True
            if message.get("type") == "goodbye" and message.get("sender") == "conductor":
                self.send("goodbye", {"reason": "the conductor ended the run"})
                return
            yield topic, message


def topic_of(type_, sender, body):
    if type_ in ("hello", "ready", "goodbye", "error"):
        return f"{type_}/{sender}"
    if type_ in ("telemetry", "bids", "awards", "dispatch"):
        return f"{type_}/{body['house']}"
    if type_ in ("time-request", "time-requests"):
        return f"time/{sender}"
    if type_ == "grant":
        return f"grant/{body['participant']}"
    return {"tick": "clock"}.get(type_, type_)
