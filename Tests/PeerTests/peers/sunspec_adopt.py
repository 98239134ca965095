"""Writes a curve into SunSpec curve model MODEL's curve INDEX with pysunspec2 and asks the device to adopt it.

Usage: sunspec_adopt.py PORT MODEL INDEX POINT=VALUE ...
POINT is a path inside the curve as pysunspec2 names it ("Pt[2].V", "DeptRef", "MustTrip.Pt[1].Tms"), VALUE in
engineering units. Output: {"written": true, "result": AdptCrvRslt right after the request, "read_only": [...]}
with each curve's ReadOnly as the definition's symbol names it; exit 1 with the error on a refused write.
"""
import json
import re
import sys

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP


def resolve(group, path):
    """The point at `path` ("Pt[2].V") below `group`."""
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if match:
            group = getattr(group, match.group(1))[int(match.group(2))]
        else:
            group = getattr(group, part)
    return group


def main():
    port, model_id, index = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=3)
    device.scan()
    model = device.models[model_id][0]
    model.read()
    curve = model.Crv[index - 1]
    for assignment in sys.argv[4:]:
        path, text = assignment.split("=")
        value = float(text)
        resolve(curve, path).cvalue = int(value) if value.is_integer() else value
    try:
        curve.write()
        model.AdptCrvReq.value = index
        model.AdptCrvReq.write()
    except Exception as error:  # the device's exception, as pysunspec2 reports it
        print(json.dumps({"written": False, "error": str(error)}))
        return 1
    model.read()
    symbols = {s["value"]: s["name"] for s in model.Crv[0].ReadOnly.pdef["symbols"]}
    print(json.dumps({"written": True, "result": model.AdptCrvRslt.value,
                      "read_only": [symbols[crv.ReadOnly.value] for crv in model.Crv]}))
    device.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
