#!/usr/bin/env python3
"""A household agent written from docs/PROTOCOL.md and the products' register maps only (docs/PROFILES.md):
it reads its thermostat (Intesis) and EV charger (Alfen) over Modbus TCP, bids, and writes its awarded setpoints.

Run by GridRig with GRIDRIG_BUS_PUBLISH, GRIDRIG_BUS_SUBSCRIBE, GRIDRIG_PARTICIPANT (the house) and
GRIDRIG_DEVICES set:
    python3 examples/python/household.py
"""
import json
import os
import struct
import sys
import time

from pymodbus.client import ModbusTcpClient

from gridrig_bus import Participant

SETPOINT, BAND, RAMP = 21.0, 2.0, 2.0          # heating comfort: 19-23 °C
MEAN, DEVIATION = 0.2, 0.1                     # what we assume of prices


class Device:
    def __init__(self, address):
        self.id, self.profile, self.unit = address["id"], address["profile"], address.get("unit")
        self.ratings, self.vehicle = address.get("ratings", {}), address.get("vehicle")
        self.client = ModbusTcpClient(address["host"], port=address["port"], timeout=1)
        self.client.connect()
        self.total_at_plug_in = None

    def read(self, address, count, unit):
        reply = self.client.read_holding_registers(address, count=count, device_id=self.unit or unit)
        if reply.isError():
            raise IOError(f"{self.id}: read {address}: {reply}")
        return reply.registers

    def write(self, address, registers, unit):
        reply = (self.client.write_register(address, registers[0], device_id=self.unit or unit) if len(registers) == 1
                 else self.client.write_registers(address, registers, device_id=self.unit or unit))
        if reply.isError():
            raise IOError(f"{self.id}: write {address}: {reply}")


def words(fmt, registers):
    return struct.unpack(">" + fmt, b"".join(struct.pack(">H", r) for r in registers))[0]


def registers(fmt, value):
    raw = struct.pack(">" + fmt, value)
    return [struct.unpack(">H", raw[k:k + 2])[0] for k in range(0, len(raw), 2)]


def thermostat_bid(device):
    """Intesis: room temperature at holding register 5, int16 in 0.1 °C."""
    room = words("h", device.read(5, 1, 1)) / 10
    drift = SETPOINT - room                     # heating: colder calls for running
    running = device.ratings.get("heating-capacity", 6000) / device.ratings.get("heating-cop", 3.5) / 1000
    if drift >= BAND:
        return room, 1.0, running
    if drift <= -BAND:
        return room, None, running
    return room, max(0.0001, MEAN + RAMP * DEVIATION * drift / BAND), running


def ev_bid(device, now):
    """Alfen (socket unit 1): Mode 3 state at 1201 (5 registers of text), energy delivered at 374 (float64)."""
    state = bytes(b for r in device.read(1201, 5, 1) for b in struct.pack(">H", r)).rstrip(b"\0").decode()
    total = words("d", device.read(374, 4, 1)) / 1000
    plugged = state[:1] in ("B", "C", "D") and device.vehicle is not None
    if not plugged:
        device.total_at_plug_in = None
        return state, None, 0.0
    if device.total_at_plug_in is None:
        device.total_at_plug_in = total
    needed = device.vehicle["energy_needed"] - (total - device.total_at_plug_in)
    power = min(device.vehicle["max_current"], device.ratings.get("max-current", 32)) * 230 * device.vehicle["phases"] / 1000
    hours_left = max(device.vehicle["departure"] - now, 1) / 3600
    if needed <= 0:
        return state, None, 0.0
    return state, 1.0 if needed / power >= 0.75 * hours_left else 0.25, power


def main():
    house = os.environ["GRIDRIG_PARTICIPANT"]
    devices = [Device(a) for a in json.loads(os.environ.get("GRIDRIG_DEVICES", "[]")) if a["id"].startswith(house + "/")]
    for device in devices:
        if device.profile not in ("intesis-thermostat", "alfen-ng9xx"):
            print(f"{device.id}: profile {device.profile} is not supported by this example; left alone", file=sys.stderr)
    bus = Participant(house, "household", ["awards/" + house])
    interval, now = None, 0.0
    for topic, message in bus.messages():
        if message["type"] == "interval" and message["sender"] == "conductor":
            interval, now = message["interval"], message["start"]
            bids, telemetry = [], []
            for device in devices:
                try:
                    if device.profile == "intesis-thermostat":
                        room, price, quantity = thermostat_bid(device)
                        telemetry.append({"id": device.id, "values": {"room_temperature": room}})
                        if price is not None:
                            bids.append({"id": house + "/thermostat", "side": "buy", "price": price, "quantity": quantity})
                    elif device.profile == "alfen-ng9xx":
                        state, price, quantity = ev_bid(device, now)
                        telemetry.append({"id": device.id, "values": {"plugged_in": 1.0 if price is not None else 0.0}})
                        if price is not None:
                            bids.append({"id": house + "/ev", "side": "buy", "price": price, "quantity": quantity})
                except IOError as error:
                    telemetry.append({"id": device.id, "values": {"available": 0.0}})
                    print(error, file=sys.stderr)
            bus.send("telemetry", {"house": house, "devices": telemetry}, interval)
            bus.send("bids", {"house": house, "bids": bids}, interval)
        elif topic == "awards/" + house and message["type"] == "awards" and message.get("interval") == interval:
            received, price = time.time(), message["price"]
            won = {award["id"]: award["quantity"] for award in message["awards"]}
            setpoints = []
            for device in devices:
                try:
                    if device.profile == "intesis-thermostat":
                        # Where the ramp meets the price: cheap energy pre-heats, dear energy lets the room cool.
                        offset = max(-BAND, min(BAND, (MEAN - price) / (RAMP * DEVIATION) * BAND))
                        setpoint = round(SETPOINT + offset, 1)
                        device.write(0, [1], 1)                                     # on
                        device.write(1, [1], 1)                                     # heat
                        device.write(100, registers("h", int(round(setpoint * 10))), 1)
                        setpoints.append({"id": device.id, "name": "heat-setpoint", "value": setpoint, "landed_at": time.time()})
                    elif device.profile == "alfen-ng9xx":
                        phases = device.vehicle["phases"] if device.vehicle else 3
                        current = won.get(house + "/ev", 0.0) * 1000 / (230 * phases)
                        current = 0.0 if current < 3 else max(6.0, min(current, 32.0))
                        device.write(1210, registers("f", current), 1)
                        setpoints.append({"id": device.id, "name": "current-limit", "value": current, "landed_at": time.time()})
                except IOError as error:
                    setpoints.append({"id": device.id, "name": "setpoint", "value": None, "landed_at": None, "error": str(error)})
            bus.send("dispatch", {"house": house, "awards_received_at": received, "setpoints": setpoints}, interval)


if __name__ == "__main__":
    main()
