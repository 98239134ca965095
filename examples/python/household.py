#!/usr/bin/env python3
"""A household agent written from docs/PROTOCOL.md, docs/MARKET.md and the products' register maps only
(docs/PROFILES.md): it reads its devices over Modbus TCP, bids, writes its awarded setpoints, and follows its
awards through the interval at the control steps it asks for (protocol 1.1):
- a heat pump behind an Intesis gateway runs for its awarded share of the interval;
- an Alfen or Phoenix charger gets the awarded current (Alfen's 60-s watchdog refreshed);
- a SunSpec battery (model 124, Fronius-style) holds the awarded power, rewritten before its revert timer runs out;
- a SunSpec PV inverter is limited to what it sold (model 123) when it sold less than it offered; while the limit
  holds it back it shows no more than the limit, so it offers what it gave when last seen free.
SunSpec devices are found by walking their model chain from register 40000, and every scale factor is read with its
values, never remembered: a firmware update may change it.

Run by GridRig with GRIDRIG_BUS_PUBLISH, GRIDRIG_BUS_SUBSCRIBE, GRIDRIG_PARTICIPANT (the house) and
GRIDRIG_DEVICES set:
    python3 examples/python/household.py
Set GRIDRIG_STEPS=0 to run it as a protocol 1.0 agent that acts only at interval starts, or GRIDRIG_STEPS=wall to
run it as firmware on its own clock: protocol 1.0, with its plans and watchdog refreshes carried out when its own
wall clock says so (for `gridrig certify --clock realtime`).
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
SUPPORTED = ("intesis-thermostat", "alfen-ng9xx", "phoenix-ev-eth", "sunspec-battery", "sunspec-inverter")
BID_KIND = {"thermostat": "thermostat", "ev-charger": "ev", "battery": "battery", "inverter": "solar"}   # bid ids


class Device:
    def __init__(self, address):
        self.id, self.profile, self.unit, self.kind = address["id"], address["profile"], address.get("unit"), address["kind"]
        self.ratings, self.vehicle = address.get("ratings", {}), address.get("vehicle")
        comfort = address.get("comfort") or {"season": "heating", "setpoint": 21, "below": 2, "above": 2}
        self.cooling = comfort["season"] == "cooling"
        self.setpoint, self.below, self.above = comfort["setpoint"], comfort["below"], comfort["above"]
        # One try with a short timeout: a silent device must not make the household miss the bid deadline.
        self.client = ModbusTcpClient(address["host"], port=address["port"], timeout=0.5, retries=0)
        self.client.connect()
        self.total_at_plug_in = None
        self.plan = None                        # what this device does within the open interval
        self.models = None                      # SunSpec: model id -> its first register (the ID)
        self.offer = 0.0                        # kW a battery or PV offered to sell this interval
        self.limit = None                       # kW: the PV limit in force
        self.unlimited = None                   # kW: the PV's output when last seen without our limit
        self.revert = 0                         # a battery's revert timer, s (0: none)

    def read(self, address, count, unit, table="holding"):
        """Raises IOError for an exception response, a timeout or a lost connection alike: the field's faults."""
        read = self.client.read_input_registers if table == "input" else self.client.read_holding_registers
        try:
            reply = read(address, count=count, device_id=self.unit or unit)
        except ModbusException as error:
            raise IOError(f"{self.id}: read {address}: {error}") from error
        if reply.isError():
            raise IOError(f"{self.id}: read {address}: {reply}")
        return reply.registers

    def write(self, address, registers, unit, coil=False):
        try:
            if coil:
                reply = self.client.write_coil(address, bool(registers[0]), device_id=self.unit or unit)
            elif len(registers) == 1:
                reply = self.client.write_register(address, registers[0], device_id=self.unit or unit)
            else:
                reply = self.client.write_registers(address, registers, device_id=self.unit or unit)
        except ModbusException as error:
            raise IOError(f"{self.id}: write {address}: {error}") from error
        if reply.isError():
            raise IOError(f"{self.id}: write {address}: {reply}")


    def model(self, model_id):
        """The first register of a SunSpec model (its ID), found once by walking the chain from 40000 ("SunS")."""
        if self.models is None:
            if self.read(40000, 2, 1) != [0x5375, 0x6E53]:
                raise IOError(f"{self.id}: no SunSpec marker at 40000")
            models, address = {}, 40002
            while True:
                model, length = self.read(address, 2, 1)
                if model == 0xFFFF:
                    break
                models.setdefault(model, address)
                address += 2 + length
            self.models = models
        if model_id not in self.models:
            raise IOError(f"{self.id}: no SunSpec model {model_id}")
        return self.models[model_id]

    def scaled(self, model_id, offset, sf_offset, signed=False):
        """A SunSpec value and its scale factor, read in one request: (value, 10 ** sf)."""
        start = self.model(model_id)
        first, last = min(offset, sf_offset), max(offset, sf_offset)
        regs = self.read(start + first, last - first + 1, 1)
        raw, sf = regs[offset - first], words("h", [regs[sf_offset - first]])
        return (words("h", [raw]) if signed else raw) * 10.0 ** sf, 10.0 ** sf


def words(fmt, registers, low_first=False):
    if low_first:
        registers = list(reversed(registers))
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


def ev_state(device):
    """(IEC 61851 state letter, kWh delivered). Alfen (socket unit 1): Mode 3 state at 1201 (5 registers of text),
    lifetime energy at 374 (float64, Wh). Phoenix (unit 255, low word first): state at input register 100 (one
    character), lifetime energy at holding 904 (uint32, Wh)."""
    if device.profile == "phoenix-ev-eth":
        state = chr(device.read(100, 1, 255, table="input")[0] & 0xFF)
        return state, words("I", device.read(904, 2, 255), low_first=True) / 1000
    state = bytes(b for r in device.read(1201, 5, 1) for b in struct.pack(">H", r)).rstrip(b"\0").decode()
    return state, words("d", device.read(374, 4, 1)) / 1000


def ev_bid(device, now, length):
    state, total = ev_state(device)
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


def battery_reading(device):
    """SunSpec 124 read whole: WChaMax (W), StorCtl_Mod, ChaState (%), InOutWRte_RvrtTms (s), with their scale
    factors as the device reads them now."""
    start = device.model(124)
    regs = device.read(start + 2, 24, 1)
    sf = lambda k: 10.0 ** words("h", [regs[k]])  # noqa: E731
    return {"max_power": regs[0] * sf(16) / 1000, "soc": regs[6] * sf(20), "revert": regs[13]}


def battery_bid(device, reading, length):
    """MARKET.md's battery: values stored energy at mu + sigma (1 - 2s); buys at v sqrt(eta), sells at v / sqrt(eta),
    each for what fills or empties it in one interval within its power."""
    low, high = device.ratings.get("minimum-soc", 5), device.ratings.get("maximum-soc", 100)
    eta = device.ratings.get("round-trip-efficiency", 0.9)
    capacity = device.ratings.get("capacity", 10000) / 1000
    s = min(1.0, max(0.0, (reading["soc"] - low) / (high - low)))
    value = MEAN + DEVIATION * (1 - 2 * s)
    hours = length / 3600
    # A point of SoC short of each limit, and 20 % in hand for losses: a battery held at a power must not meet them.
    room = 0.8 * (high - 1 - reading["soc"]) / 100 * capacity / hours
    stored = 0.8 * (reading["soc"] - low - 1) / 100 * capacity / hours
    buy_price = max(0.0001, value * eta ** 0.5)
    sell_price = min(0.9999, max(value / eta ** 0.5, buy_price + 0.0002))
    bids = []
    if room > 0.05:
        bids.append({"side": "buy", "price": buy_price, "quantity": round(min(reading["max_power"], room), 3)})
    if stored > 0.05:
        bids.append({"side": "sell", "price": sell_price, "quantity": round(min(reading["max_power"], stored), 3)})
    return bids


def pv_reading(device):
    """(available, rated) kW from SunSpec 103 W and 120 WRtg. Held at our limit, W shows the limit: then what the
    array gave when last seen free stands for what it could give."""
    power, _ = device.scaled(103, 14, 15, signed=True)
    rated, _ = device.scaled(120, 3, 4)
    output = max(0.0, power) / 1000
    if device.limit is not None and output >= 0.95 * device.limit and device.unlimited is not None:
        return max(output, device.unlimited), rated / 1000
    device.unlimited = output
    return output, rated / 1000


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


def battery_plan(device, bought, sold, start, length):
    """Hold AC power sold - bought (kW, + discharges) through the interval."""
    return [(start, round(sold - bought, 3))]


def pv_plan(device, sold, start, length):
    """Limit the inverter to what it sold when that is less than it offered; else no limit."""
    if sold >= device.offer * 0.98 or device.offer <= 0:
        return [(start, None)] if device.limit is not None else []
    return [(start, sold)]


def setpoint_name(device):
    """What `apply` sets on the device, by its name in docs/PROTOCOL.md."""
    if device.profile == "sunspec-battery":
        return "power"
    if device.profile == "sunspec-inverter":
        return "power-limit"
    if device.profile == "intesis-thermostat":
        return "cool-setpoint" if device.cooling else "heat-setpoint"
    return "current-limit"


def apply(device, value):
    """Writes one setpoint; returns its name and the value the device took (after the register's resolution)."""
    if device.profile == "sunspec-battery":
        # 124 as Fronius reads it: StorCtl_Mod 3 holds the power within [-InWRte, OutWRte] % of WChaMax.
        start = device.model(124)
        regs = device.read(start + 2, 24, 1)
        max_power = regs[0] * 10.0 ** words("h", [regs[16]])
        rate_sf = 10.0 ** words("h", [regs[23]])
        percent = max(-100.0, min(100.0, value * 1000 / max_power * 100)) if max_power > 0 else 0.0
        raw = int(round(percent / rate_sf))
        device.write(start + 2 + 3, [3], 1)                                           # StorCtl_Mod
        device.write(start + 2 + 10, registers("h", raw) + registers("h", -raw), 1)   # OutWRte, InWRte
        return setpoint_name(device), round(raw * rate_sf / 100 * max_power / 1000, 4)
    if device.profile == "sunspec-inverter":
        start = device.model(123)
        if value is None:
            device.write(start + 2 + 7, [0], 1)                                       # WMaxLim_Ena off
            device.limit = None
            return setpoint_name(device), None
        rated, _ = device.scaled(120, 3, 4)
        sf = 10.0 ** words("h", device.read(start + 2 + 21, 1, 1))                    # WMaxLimPct_SF
        raw = int(round(max(0.0, min(100.0, value * 1000 / rated * 100)) / sf))
        device.write(start + 2 + 3, [raw], 1)                                         # WMaxLimPct
        device.write(start + 2 + 7, [1], 1)                                           # WMaxLim_Ena on
        device.limit = round(raw * sf / 100 * rated / 1000, 4)
        return setpoint_name(device), device.limit
    if device.profile == "phoenix-ev-eth":
        # Whole amps at 528 (6-32); below 6 A the coil at 400 stops charging.
        amps = int(round(value))
        if amps < 6:
            device.write(400, [0], 255, coil=True)
            return setpoint_name(device), 0.0
        device.write(528, [amps], 255)
        device.write(400, [1], 255, coil=True)
        return setpoint_name(device), float(amps)
    if device.profile == "intesis-thermostat":
        device.write(0, [1], 1)                                         # on
        device.write(1, [4 if device.cooling else 1], 1)                # cool or heat
        device.write(101 if device.cooling else 100, registers("h", int(round(value * 10))), 1)
        return setpoint_name(device), value
    device.write(1210, registers("f", value), 1)                        # re-arms the watchdog
    return setpoint_name(device), value


def watchdog(device):
    """Seconds within which the device must be written again, or None: Alfen's fixed 60 s, a battery's revert timer."""
    if device.profile == "alfen-ng9xx":
        return WATCHDOG
    if device.profile == "sunspec-battery" and device.plan and device.plan.get("revert"):
        return device.plan["revert"]
    return None


def act(devices, now, steps):
    """Carry out every plan step due at `now`, refresh the charger's watchdog, and return the setpoints written and
    the next time the agent needs (None when nothing is due before the next interval)."""
    setpoints, wanted = [], []
    for device in devices:
        if not device.plan:
            continue
        due = [step for step in device.plan["steps"] if step[0] <= now]
        timeout = watchdog(device)
        refresh = timeout is not None and now >= device.plan["written"] + 0.75 * timeout
        if due or refresh:
            value = due[-1][1] if due else device.plan["value"]
            try:
                name, taken = apply(device, value)
                setpoints.append({"id": device.id, "name": name, "value": taken, "landed_at": time.time()})
            except IOError as error:
                setpoints.append({"id": device.id, "name": setpoint_name(device), "value": None, "landed_at": None,
                                  "error": str(error)})
            device.plan["steps"] = [step for step in device.plan["steps"] if step[0] > now]
            device.plan["value"], device.plan["written"] = value, now
        if device.plan["steps"]:
            wanted.append(device.plan["steps"][0][0])
        if timeout is not None:
            wanted.append(device.plan["written"] + 0.75 * timeout)
    return setpoints, (min(wanted) if wanted and steps else None)


def main():
    house = os.environ["GRIDRIG_PARTICIPANT"]
    mode = os.environ.get("GRIDRIG_STEPS", "1")
    steps = mode == "1"
    devices = [Device(a) for a in json.loads(os.environ.get("GRIDRIG_DEVICES", "[]")) if a["id"].startswith(house + "/")]
    for device in devices:
        if device.profile not in SUPPORTED:
            print(f"{device.id}: profile {device.profile} is not supported by this example; left alone", file=sys.stderr)
    devices = [d for d in devices if d.profile in SUPPORTED]
    bus = Participant(house, "household", ["awards/" + house, "grant/" + house])
    interval, start, length, opened = None, 0.0, 300.0, time.time()

    def own_clock():
        """On its own clock: the simulated time is the interval's start plus the wall time since it opened."""
        if interval is not None:
            act(devices, min(start + length, start + time.time() - opened), False)

    for topic, message in bus.messages(idle=own_clock if mode == "wall" else None):
        if message["type"] == "interval" and message["sender"] == "conductor":
            interval, start, length, opened = message["interval"], message["start"], message["length"], time.time()
            bids, telemetry = [], []
            for device in devices:
                bid_id = f"{house}/{BID_KIND[device.kind]}"
                device.offer = 0.0
                try:
                    if device.kind == "thermostat":
                        room, price, quantity = thermostat_bid(device)
                        telemetry.append({"id": device.id, "values": {"room_temperature": room}})
                        if price is not None:
                            bids.append({"id": bid_id, "side": "buy", "price": price, "quantity": quantity})
                    elif device.kind == "ev-charger":
                        state, price, quantity = ev_bid(device, start, length)
                        telemetry.append({"id": device.id, "values": {"plugged_in": 1.0 if price is not None else 0.0}})
                        if price is not None:
                            bids.append({"id": bid_id, "side": "buy", "price": price, "quantity": quantity})
                    elif device.kind == "battery":
                        reading = battery_reading(device)
                        device.revert = reading["revert"]
                        telemetry.append({"id": device.id, "values": {"soc": reading["soc"]}})
                        for bid in battery_bid(device, reading, length):
                            bids.append(dict(bid, id=bid_id))
                            if bid["side"] == "sell":
                                device.offer = bid["quantity"]
                    else:
                        available, rated = pv_reading(device)
                        telemetry.append({"id": device.id, "values": {"ac_power": available}})
                        device.offer = round(min(available, rated), 3)
                        if device.offer > 0.001:
                            bids.append({"id": bid_id, "side": "sell", "price": 0.0, "quantity": device.offer})
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
            won = {(award["id"], award["side"]): award["quantity"] for award in message["awards"]}
            for device in devices:
                bid_id = f"{house}/{BID_KIND[device.kind]}"
                bought, sold = won.get((bid_id, "buy"), 0.0), won.get((bid_id, "sell"), 0.0)
                if device.kind == "thermostat":
                    plan = thermostat_plan(device, bought, start, length)
                elif device.kind == "ev-charger":
                    plan = ev_plan(device, bought, start, length)
                elif device.kind == "battery":
                    plan = battery_plan(device, bought, sold, start, length)
                else:
                    plan = pv_plan(device, sold, start, length)
                if plan:
                    device.plan = {"steps": plan, "value": plan[0][1], "written": start - 3600, "revert": device.revert}
                else:
                    device.plan = None
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
