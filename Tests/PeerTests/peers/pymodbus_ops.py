"""Runs Modbus requests with pymodbus and prints one JSON result per request.

Usage: pymodbus_ops.py PORT UNIT OPS_JSON
OPS_JSON is a list of {"op": "read"|"write"|"write1", "table": "holding"|"input"|"coil", "address": n,
"count": n, "values": [...]}. Each result is {"registers"|"bits": [...]} or {"exception": code}.
"""
import json
import sys

from pymodbus.client import ModbusTcpClient


def main():
    port, unit, ops = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    if not client.connect():
        print(json.dumps([{"error": "connect failed"}]))
        return 1
    results = []
    for op in ops:
        table, address = op.get("table", "holding"), op["address"]
        if op["op"] == "read":
            read = {"holding": client.read_holding_registers, "input": client.read_input_registers,
                    "coil": client.read_coils}[table]
            response = read(address, count=op.get("count", 1), device_id=unit)
        elif op["op"] == "write1":
            if table == "coil":
                response = client.write_coil(address, bool(op["values"][0]), device_id=unit)
            else:
                response = client.write_register(address, op["values"][0], device_id=unit)
        else:
            response = client.write_registers(address, op["values"], device_id=unit)
        if response.isError():
            results.append({"exception": getattr(response, "exception_code", -1)})
        elif table == "coil" and op["op"] == "read":
            results.append({"bits": [int(b) for b in response.bits[: op.get("count", 1)]]})
        else:
            results.append({"registers": list(getattr(response, "registers", []) or [])})
    client.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
