#!/usr/bin/env python3
"""A household agent written from docs/PROTOCOL.md and the products' register maps only (docs/PROFILES.md):
it reads its thermostat (Intesis) and EV charger (Alfen) over Modbus TCP, bids, writes its awarded setpoints, and
follows its awards through the interval at the control steps it asks for (protocol 1.1): the heat pump runs for
its awarded share of the interval, the charger gets the awarded current and has its 60-s watchdog refreshed.

Run by GridRig with GRIDRIG_BUS_PUBLISH, GRIDRIG_BUS_SUBSCRIBE, GRIDRIG_PARTICIPANT (the house) and
GRIDRIG_DEVICES set:
    python3 examples/python/household.py
Set GRIDRIG_STEPS=0 to run it as a protocol 1.0 agent that acts only at interval starts.
"""
import json
import os
import struct
import sys
import time

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from gridrig_bus import Participant

RAMP = 2.0                                     # price standard deviations from the setpoint to a comfort edge
MEAN = float(os.environ.get("GRIDRIG_PRICE_MEAN", "0.2"))           # what we assume of prices
DEVIATION = float(os.environ.get("GRIDRIG_PRICE_DEVIATION", "0.1"))
WATCHDOG = 60                                  # Alfen: without a write to 1210 within 60 s it falls back to 6 A


class Device:
    def __init__(self, address):
        self.id, self.profile, self.unit = address["id"], address["profile"], address.get("unit")
        self.ratings, self.vehicle = address.get("ratings", {}), address.get("vehicle")
        comfort = address.get("comfort") or {"season": "heating", "setpoint": 21, "below": 2, "above": 2}
        self.cooling = comfort["season"] == "cooling"
        self.setpoint, self.below, self.above = comfort["setpoint"], comfort["below"], comfort["above"]
        # One try with a short timeout: a silent device must not make the household miss the bid deadline.
        self.client = ModbusTcpClient(address["host"], port=address["port"], timeout=0.5, retries=0)
        self.client.connect()
        self.total_at_plug_in = None
        self.plan = None                        # what this device does within the open interval

    def read(self, address, count, unit):
        """Raises IOError for an exception response, a timeout or a lost connection alike: the field's faults."""
        try:
            reply = self.client.read_holding_registers(address, count=count, device_id=self.unit or unit)
        except ModbusException as error:
            raise IOError(f"{self.id}: read {address}: {error}") from error
        if reply.isError():
            raise IOError(f"{self.id}: read {address}: {reply}")
        return reply.registers

    def write(self, address, registers, unit):
        try:
            reply = (self.client.write_register(address, registers[0], device_id=self.unit or unit) if len(registers) == 1
                     else self.client.write_registers(address, registers, device_id=self.unit or unit))
        except ModbusException as error:
            raise IOError(f"{self.id}: write {address}: {error}") from error
        if reply.isError():
            raise IOError(f"{self.id}: write {address}: {reply}")


def words(fmt, registers):
    return struct.unpack(">" + fmt, b"".join(struct.pack(">H", r) for r in registers))[0]


def registers(fmt, value):
    raw = struct.pack(">" + fmt, value)
    return [struct.unpack(">H", raw[k:k + 2])[0] for k in range(0, len(raw), 2)]


def thermostat_bid(device):
    """Intesis: room temperature at holding register 5, int16 in 0.1 °C. The bid rises with the drift towards
    needing the heat pump; at the comfort edge it is at the cap."""
    room = words("h", device.read(5, 1, 1)) / 10
    drift = room - device.setpoint if device.cooling else device.setpoint - room
    urgent, idle = (device.above, device.below) if device.cooling else (device.below, device.above)
    capacity, cop = ("cooling-capacity", "cooling-cop") if device.cooling else ("heating-capacity", "heating-cop")
    running = (device.ratings.get(capacity, 5000) / device.ratings.get(cop, 3) + device.ratings.get("fan-power", 120)) / 1000
    if drift >= urgent:
        return room, 1.0, running
    if drift <= -idle:
        return room, None, running
    return room, max(0.0001, MEAN + RAMP * DEVIATION * drift / (urgent if drift >= 0 else idle)), running


def ev_bid(device, now, length):
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
    hours_left = (device.vehicle["departure"] - now) / 3600
    if needed <= 0 or hours_left <= 0:
        return state, None, 0.0
    quantity = min(power * min(1.0, hours_left * 3600 / length), needed / (length / 3600))
    return state, 1.0 if needed / power >= 0.5 * hours_left else 0.25, quantity


def base_load(start, length):
    """What the house draws on its own, kW: the quarter-hour profile GridRig gives (GRIDRIG_BASE_LOAD_PROFILE), or its
    mean (GRIDRIG_BASE_LOAD_KW). It is bid at the cap: it runs whatever the price."""
    profile = [float(v) for v in os.environ.get("GRIDRIG_BASE_LOAD_PROFILE", "").split(",") if v]
    if len(profile) != 96:
        return float(os.environ.get("GRIDRIG_BASE_LOAD_KW", "0"))
    samples = [profile[int(((start + t) % 86400) // 900)] for t in range(0, int(length), 60)]
    return sum(samples) / len(samples)


def thermostat_plan(device, award, start, length):
    """Run (the setpoint at the comfort edge that calls for running) for the awarded share of the interval, then
    rest at the other edge."""
    capacity, cop = ("cooling-capacity", "cooling-cop") if device.cooling else ("heating-capacity", "heating-cop")
    running = (device.ratings.get(capacity, 5000) / device.ratings.get(cop, 3) + device.ratings.get("fan-power", 120)) / 1000
    on = min(length, award / running * length) if running > 0 else 0
    run_edge = device.setpoint - device.below if device.cooling else device.setpoint + device.above
    rest_edge = device.setpoint + device.above if device.cooling else device.setpoint - device.below
    return [(start, run_edge if on >= 90 else rest_edge), (start + round(on), rest_edge)] if on >= 90 else [(start, rest_edge)]


def ev_plan(device, award, start, length):
    """The awarded current; below the IEC minimum, 6 A for the share of the interval that delivers the award."""
    phases = device.vehicle["phases"] if device.vehicle else 3
    current = award * 1000 / (230 * phases)
    if current >= 6:
        return [(start, min(current, 32.0))]
    on = current / 6 * length
    return [(start, 6.0), (start + round(on), 0.0)] if on >= 10 else [(start, 0.0)]


def apply(device, value):
    if device.profile == "intesis-thermostat":
        device.write(0, [1], 1)                                         # on
        device.write(1, [4 if device.cooling else 1], 1)                # cool or heat
        device.write(101 if device.cooling else 100, registers("h", int(round(value * 10))), 1)
        return "cool-setpoint" if device.cooling else "heat-setpoint"
    device.write(1210, registers("f", value), 1)                        # re-arms the watchdog
    return "current-limit"


def act(devices, now, steps):
    """Carry out every plan step due at `now`, refresh the charger's watchdog, and return the setpoints written and
    the next time the agent needs (None when nothing is due before the next interval)."""
    setpoints, wanted = [], []
    for device in devices:
        if not device.plan:
            continue
        due = [step for step in device.plan["steps"] if step[0] <= now]
        refresh = device.profile == "alfen-ng9xx" and now >= device.plan["written"] + 0.75 * WATCHDOG
        if due or refresh:
            value = due[-1][1] if due else device.plan["value"]
            try:
                name = apply(device, value)
                setpoints.append({"id": device.id, "name": name, "value": value, "landed_at": time.time()})
            except IOError as error:
                setpoints.append({"id": device.id, "name": "setpoint", "value": None, "landed_at": None, "error": str(error)})
            device.plan["steps"] = [step for step in device.plan["steps"] if step[0] > now]
            device.plan["value"], device.plan["written"] = value, now
        if device.plan["steps"]:
            wanted.append(device.plan["steps"][0][0])
        if device.profile == "alfen-ng9xx":
            wanted.append(device.plan["written"] + 0.75 * WATCHDOG)
    return setpoints, (min(wanted) if wanted and steps else None)


def main():
    house = os.environ["GRIDRIG_PARTICIPANT"]
    steps = os.environ.get("GRIDRIG_STEPS", "1") != "0"
    devices = [Device(a) for a in json.loads(os.environ.get("GRIDRIG_DEVICES", "[]")) if a["id"].startswith(house + "/")]
    for device in devices:
        if device.profile not in ("intesis-thermostat", "alfen-ng9xx"):
            print(f"{device.id}: profile {device.profile} is not supported by this example; left alone", file=sys.stderr)
    devices = [d for d in devices if d.profile in ("intesis-thermostat", "alfen-ng9xx")]
    bus = Participant(house, "household", ["awards/" + house, "grant/" + house])
    interval, start, length, end = None, 0.0, 300.0, 0.0
    for topic, message in bus.messages():
        if message["type"] == "interval" and message["sender"] == "conductor":
            interval, start, length = message["interval"], message["start"], message["length"]
            bids, telemetry = [], []
            for device in devices:
                try:
                    if device.profile == "intesis-thermostat":
                        room, price, quantity = thermostat_bid(device)
                        telemetry.append({"id": device.id, "values": {"room_temperature": room}})
                        if price is not None:
                            bids.append({"id": house + "/thermostat", "side": "buy", "price": price, "quantity": quantity})
                    else:
                        state, price, quantity = ev_bid(device, start, length)
                        telemetry.append({"id": device.id, "values": {"plugged_in": 1.0 if price is not None else 0.0}})
                        if price is not None:
                            bids.append({"id": house + "/ev", "side": "buy", "price": price, "quantity": quantity})
                except IOError as error:
                    telemetry.append({"id": device.id, "values": {"available": 0.0}})
                    print(error, file=sys.stderr)
            load = base_load(start, length)
            if load > 0:
                bids.append({"id": house + "/base-load", "side": "buy", "price": message["price_cap"], "quantity": load})
            bus.send("telemetry", {"house": house, "devices": telemetry}, interval)
            bus.send("bids", {"house": house, "bids": bids}, interval)
        elif topic == "awards/" + house and message["type"] == "awards" and message.get("interval") == interval:
            received = time.time()
            won = {award["id"]: award["quantity"] for award in message["awards"] if award["side"] == "buy"}
            for device in devices:
                kind = "thermostat" if device.profile == "intesis-thermostat" else "ev"
                plan = (thermostat_plan if kind == "thermostat" else ev_plan)(device, won.get(f"{house}/{kind}", 0.0), start, length)
                device.plan = {"steps": plan, "value": plan[0][1], "written": start - WATCHDOG}
            setpoints, next_time = act(devices, start, steps)
            report = {"house": house, "awards_received_at": received, "setpoints": setpoints}
            if next_time is not None and next_time < start + length:
                report["next_time"] = next_time
            bus.send("dispatch", report, interval)
        elif topic == "grant/" + house and message["type"] == "grant" and message.get("interval") == interval:
            _, next_time = act(devices, message["time"], steps)
            bus.send("time-request", {"time": next_time} if next_time is not None and next_time < start + length else {}, interval)


if __name__ == "__main__":
    main()
