"""Checks a SunSpec device's points against the current model definitions, as pysunspec2 ships them.

Usage: sunspec_conformance.py PORT
- DEV: "SunS" at 40000, a chain of models each with a definition, ended by 0xFFFF with length 0;
- TCP: a request split over two segments is answered once whole; two requests in one segment are answered both,
  each with its transaction id;
- MOD-1: every point the definition makes mandatory is implemented; MOD-2: each model's length is its definition's;
- SF: every scale factor an implemented point uses is implemented and within -10..10.
For every implemented point of every model the device serves (repeating groups included):
- a point the definition makes writable (RW), outside a curve marked read-only (ReadOnly R), takes a write of its
  own value and reads it back (MOD-3); an enumeration takes every value it defines, and refuses one beyond them
  (REJ); the point is left as it was;
- any other point refuses a write of its own value (read-only).
Output: {"checks": N, "failures": [{"model": ID, "point": PATH, "check": ..., "detail": ...}]}.
"""
import json
import socket
import struct
import sys
import time

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


def transact(port, frames, requests, gap=0.0):
    """Sends the frames (a gap between them) on one connection and returns the responses' transaction ids and
    function codes, up to `requests` of them."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        for frame in frames:
            connection.sendall(frame)
            time.sleep(gap)
        data, answers = b"", []
        try:
            while len(answers) < requests:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                data += chunk
                while len(data) >= 7 and len(data) >= 6 + struct.unpack(">H", data[4:6])[0]:
                    size = 6 + struct.unpack(">H", data[4:6])[0]
                    answers.append((struct.unpack(">H", data[:2])[0], data[7]))
                    data = data[size:]
        except socket.timeout:
            pass
        return answers


def read_request(transaction, address, count):
    return struct.pack(">HHHBBHH", transaction, 0, 6, 1, 3, address, count)


def check_tcp(port):
    global checks
    checks += 2
    request = read_request(7, 40000, 2)
    answers = transact(port, [request[:5], request[5:]], 1, gap=0.05)
    if answers != [(7, 3)]:
        fail(0, "TCP", "split", f"a request in two segments was answered {answers}")
    answers = transact(port, [read_request(8, 40000, 2) + read_request(9, 40002, 2)], 2)
    if answers != [(8, 3), (9, 3)]:
        fail(0, "TCP", "pipelined", f"two requests in one segment were answered {answers}")


def check_model(model_id, model):
    """MOD-1, MOD-2 and SF for one model."""
    global checks
    checks += 1
    if model.len != model.model_len or model.error_info:
        fail(model_id, "L", "MOD-2", f"length {model.model_len}, the definition's {model.len} {model.error_info or ''}")

    def points(group, prefix):
        for name, point in group.points.items():
            yield prefix + name, point
        for name, inner in group.groups.items():
            for index, item in enumerate(inner if isinstance(inner, list) else [inner]):
                yield from points(item, f"{prefix}{name}[{index}].")

    for path, point in points(model, ""):
        if point.pdef.get("mandatory") == "M" and not point.is_impl() and point.pdef.get("type") != "pad":
            checks += 1
            fail(model_id, path, "MOD-1", "a mandatory point is not implemented")
        factor = point.pdef.get("sf")
        if isinstance(factor, str) and point.is_impl():
            checks += 1
            source = point.group.points.get(factor) or model.points.get(factor)
            if source is None or not source.is_impl() or not -10 <= source.value <= 10:
                fail(model_id, path, "SF", f"its scale factor {factor} reads {None if source is None else source.value}")


def registers(port, address, count):
    """Holding registers read on a connection of their own; None when the answer is not registers."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(read_request(1, address, count))
        reply = connection.recv(260)
    return list(struct.unpack(f">{count}H", reply[9:9 + 2 * count])) if len(reply) >= 9 + 2 * count and reply[7] == 3 else None


def check_chain(port, device):
    """DEV: the SunSpec marker, every model defined, the end marker."""
    global checks
    checks += 1
    if registers(port, 40000, 2) != [0x5375, 0x6E53]:
        fail(0, "SunS", "DEV", f"40000 reads {registers(port, 40000, 2)}")
    for key in device.models:
        if isinstance(key, int) and not device.models[key][0].model_def:
            fail(key, "ID", "DEV", "a model without a definition")
    end = max(instances[0].model_addr + instances[0].model_len + 2 for key, instances in device.models.items() if isinstance(key, int))
    if registers(port, end, 2) != [0xFFFF, 0]:
        fail(0, "end", "DEV", f"after the last model, {end} reads {registers(port, end, 2)}")


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
    port = int(sys.argv[1])
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=3)
    device.scan()
    check_chain(port, device)
    check_tcp(port)
    for key, instances in device.models.items():
        if not isinstance(key, int):
            continue
        model = instances[0]
        model.read()
        check_model(key, model)
        walk(key, model, "", False)
    device.close()
    print(json.dumps({"checks": checks, "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
