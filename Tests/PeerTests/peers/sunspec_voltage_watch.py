#!/usr/bin/env python3
"""Watches an emulated SunSpec inverter with pysunspec2 while a run goes on: scans it once, then reads models 103
and 705 once a second and appends {"V": PhVphA, "VAr": VAr, "W": W} as a JSON line to OUT, until the device goes
away (the run ended) or SECONDS pass.

  sunspec_voltage_watch.py PORT OUT SECONDS
"""
import json
import sys
import time

import sunspec2.modbus.client as client

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
with open(out, "a") as log:
    while time.time() < deadline:
        try:
            inverter.read()
        except Exception:
            break  # the run is over and its devices are gone
        log.write(json.dumps({"V": inverter.PhVphA.cvalue, "VAr": inverter.VAr.cvalue, "W": inverter.W.cvalue}) + "\n")
        log.flush()
        time.sleep(0.5)
