"""Checks a SunSpec device's points against the current model definitions, as pysunspec2 ships them.

Usage: sunspec_conformance.py PORT
For every implemented point of every model the device serves (repeating groups included):
- a point the definition makes writable (RW), outside a curve marked read-only (ReadOnly R), takes a write of its
  own value and reads it back (MOD-3); an enumeration takes every value it defines, and refuses one beyond them
  (REJ); the point is left as it was;
- any other point refuses a write of its own value (read-only).
Output: {"checks": N, "failures": [{"model": ID, "point": PATH, "check": ..., "detail": ...}]}.
"""
import json
import sys

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

failures = []
checks = 0


def fail(model, path, check, detail):
    failures.append({"model": model, "point": path, "check": check, "detail": str(detail)})


def write(point, value, group):
    """Writes the raw value (a point of a repeating group through its group, as pysunspec2 writes them); the
    refusal's text, or None when accepted."""
    point.value = value
    try:
        if hasattr(point, "write"):
            point.write()
        else:
            group.write()
        return None
    except Exception as error:
        return str(error) or type(error).__name__


def check_point(model_id, path, point, group, writable):
    global checks
    if not point.is_impl() or point.pdef.get("type") in ("sunssf", "pad", "string") or point.pdef["name"] in ("ID", "L"):
        return
    original = point.value
    checks += 1
    if not writable:
        refused = write(point, original, group)
        if refused is None:
            fail(model_id, path, "read-only", "a write of its own value was accepted")
        point.dirty = False  # a refused point must not ride along with the next write of its group
        return
    refused = write(point, original, group)
    if refused is not None:
        fail(model_id, path, "write", f"a write of its own value {original} was refused: {refused}")
        return
    group.model.read()
    if point.value != original:
        fail(model_id, path, "read back", f"wrote {original}, read {point.value}")
    symbols = [symbol["value"] for symbol in point.pdef.get("symbols", [])]
    if point.pdef.get("type", "").startswith("enum") and symbols:
        for value in symbols:
            refused = write(point, value, group)
            if refused is not None:
                fail(model_id, path, "enumeration", f"its defined value {value} was refused: {refused}")
        refused = write(point, max(symbols) + 1, group)
        if refused is None:
            fail(model_id, path, "range", f"{max(symbols) + 1}, beyond its enumeration, was accepted")
        if write(point, original, group) is not None:
            fail(model_id, path, "restore", f"could not write {original} back")
    group.model.read()


def walk(model_id, group, prefix, read_only):
    for name, point in group.points.items():
        writable = point.pdef.get("access", "R") == "RW" and not read_only
        check_point(model_id, prefix + name, point, group, writable)
    for name, inner in group.groups.items():
        for index, item in enumerate(inner if isinstance(inner, list) else [inner]):
            path = f"{prefix}{name}[{index}]." if isinstance(inner, list) else f"{prefix}{name}."
            flag = item.points.get("ReadOnly")
            walk(model_id, item, path, read_only or (flag is not None and flag.value == 1))


def main():
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=int(sys.argv[1]), timeout=3)
    device.scan()
    for key, instances in device.models.items():
        if not isinstance(key, int):
            continue
        model = instances[0]
        model.read()
        walk(key, model, "", False)
    device.close()
    print(json.dumps({"checks": checks, "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
