#!/usr/bin/env python3
"""Watches an emulated SunSpec inverter while a run goes on, with two clients: pysunspec2 scans it once, then
reads model 103 twice a second; pymodbus reads the phase voltage registers themselves (PhVphA..C and V_SF at
40080). Each time it appends {"V": PhVphA, "VAr": VAr, "W": W, "pymodbusV": PhVphA} as a JSON line to OUT, until
the device goes away (the run ended) or SECONDS pass.

  sunspec_voltage_watch.py PORT OUT SECONDS
"""
import json
import sys
import time

import sunspec2.modbus.client as client
from pymodbus.client import ModbusTcpClient

port, out, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
deadline = time.time() + seconds
device = None
while device is None and time.time() < deadline:
    try:
        candidate = client.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=2)
        candidate.scan()
        device = candidate
    except Exception:
        time.sleep(0.2)
if device is None:
    sys.exit(f"no SunSpec device at port {port}")
inverter = device.models[103][0]
plain = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
plain.connect()
with open(out, "a") as log:
    while time.time() < deadline:
        try:
            inverter.read()
            registers = plain.read_holding_registers(40080, count=4, device_id=1)
        except Exception:
            break  # the run is over and its devices are gone
        if registers.isError():
            break
        scale = registers.registers[3] - 65536 if registers.registers[3] >= 32768 else registers.registers[3]
        log.write(json.dumps({"V": inverter.PhVphA.cvalue, "VAr": inverter.VAr.cvalue, "W": inverter.W.cvalue,
                              "pymodbusV": round(registers.registers[0] * 10 ** scale, 3)}) + "\n")
        log.flush()
        time.sleep(0.5)
