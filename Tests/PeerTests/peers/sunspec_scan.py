"""Scans a SunSpec device with pysunspec2 and prints every model's points as JSON.

Usage: sunspec_scan.py PORT [UNIT]
Output: {"models": {"<id>": {"error": "...", "points": {"<name>": value}}}}; values are pysunspec2's
computed values (scale factors applied, unimplemented as null). Points of repeating groups are named by their
path, e.g. "Crv[0].Pt[3].V" (SunSpec 705) or "Crv[0].MustTrip.Pt[0].V" (708). An enumerated point's value is also
given by the name pysunspec2's model definition has for it, under the point's name and "@" ("Crv[0].DeptRef@").
"""
import json
import sys

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP


def flatten(group, prefix, points):
    for name, point in group.points.items():
        points[prefix + name] = point.cvalue
        symbols = {symbol["value"]: symbol["name"] for symbol in point.pdef.get("symbols", [])}
        if point.pdef.get("type", "").startswith("enum") and point.value in symbols:
            points[prefix + name + "@"] = symbols[point.value]
    for name, inner in group.groups.items():
        if isinstance(inner, list):
            for index, item in enumerate(inner):
                flatten(item, f"{prefix}{name}[{index}].", points)
        else:
            flatten(inner, f"{prefix}{name}.", points)


def main():
    port = int(sys.argv[1])
    unit = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    device = SunSpecModbusClientDeviceTCP(slave_id=unit, ipaddr="127.0.0.1", ipport=port, timeout=3)
    device.scan()
    models = {}
    for key, instances in device.models.items():
        if not isinstance(key, int):
            continue
        model = instances[0]
        model.read()
        points = {}
        flatten(model, "", points)
        models[str(key)] = {"error": model.error_info, "points": points}
    device.close()
    print(json.dumps({"models": models}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
