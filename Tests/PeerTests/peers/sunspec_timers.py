"""Checks a SunSpec device's reversion timers and curve adoption, by pysunspec2's model definitions.

Usage: sunspec_timers.py PORT SCALE
The device's simulated time runs SCALE times faster than the wall clock (the caller steps it); every wait below is
in simulated seconds.
- REV on every control of model 704 that has a reversion timer (`<X>RvrtTms`, enabled by `<X>Ena`): REV-1 the
  control enabled with a 30-s timer reverts (its enable reads `<X>EnaRvrt`, 0) when `<X>RvrtRem` has counted down;
  REV-2 a rewrite to 90 s while it runs extends it past the first 30 s; REV-3 a rewrite to 0 cancels it.
- CRV on every curve model (`AdptCrvReq` or `AdptCtlReq`): CRV-1 curve 1 is read-only and curve 2, written as
  curve 1 with its first point's dependent value moved within the model's rules, is adopted (IN_PROGRESS, then
  COMPLETED) and in force; CRV-2 curve 3 with its first two points' independent values swapped (out of order) is
  refused (FAILED, curve 1 unchanged); CRV-3 adopting a curve beyond NCrv is refused (exception or FAILED);
  REV-1 for curves where the model has `RvrtTms`: curve 2 adopted with a 30-s timer, the model adopts `RvrtCrv`
  (3, the curve as it started) when `RvrtRem` has counted down.
Output: {"checks": N, "failures": [{"model": ID, "point": ..., "check": ..., "detail": ...}]}.
"""
import json
import sys
import time

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

failures = []
checks = 0
scale = 1.0


def fail(model, point, check, detail):
    failures.append({"model": model, "point": point, "check": check, "detail": str(detail)})


def wait(seconds):
    """Waits `seconds` of the device's simulated time."""
    time.sleep(seconds / scale)


def written(point, value):
    """Writes one point; None when accepted, else the refusal."""
    point.cvalue = value
    try:
        point.write()
        return None
    except Exception as error:
        point.dirty = False
        return str(error) or type(error).__name__


def read(model, name):
    model.read()
    return model.points[name].cvalue


def check_704(model):
    global checks
    families = [name[:-len("RvrtTms")] for name, point in model.points.items() if name.endswith("RvrtTms") and point.is_impl()]
    for family in families:
        enable, timer, remaining = family + "Ena", family + "RvrtTms", family + "RvrtRem"
        if enable not in model.points or not model.points[enable].is_impl():
            continue
        if family + "EnaRvrt" in model.points:
            written(model.points[family + "EnaRvrt"], 0)
        for case, rewrite in (("REV-1", None), ("REV-2", 90), ("REV-3", 0)):
            checks += 1
            written(model.points[timer], 30)
            refused = written(model.points[enable], 1)
            if refused:
                fail(704, enable, case, f"enabling refused: {refused}")
                continue
            wait(10)
            left = read(model, remaining)
            if not 0 < left < 30:
                fail(704, remaining, case, f"{remaining} reads {left} 10 s into a 30-s timer")
            if rewrite is not None:
                written(model.points[timer], rewrite)
            wait(35)  # past the first 30 s
            state = read(model, enable)
            expected = 0 if rewrite is None else 1
            if state != expected:
                fail(704, enable, case, f"{enable} reads {state} 45 s after a 30-s timer" + (f" rewritten to {rewrite}" if rewrite is not None else ""))
            if rewrite == 90 and not read(model, remaining) > 30:
                fail(704, remaining, case, f"the rewritten timer shows {read(model, remaining)} s left")
            if rewrite == 0 and read(model, remaining) != 0:
                fail(704, remaining, case, "a cancelled timer still counts")
            written(model.points[timer], 0)
            written(model.points[enable], 0)


# The first point's dependent value moved within each model's rules (reactive power freely; volt-watt's power down;
# trip times up; droop's minimum power up), for a curve 2 that differs from curve 1 and still passes.
MOVES = {"Var": -1, "W": -10, "Tms": 1, "PMin": 1}


def groups_of(model):
    for name in ("Crv", "Ctl"):
        if name in model.groups:
            return name, model.groups[name]
    return None, []


def point_groups(curve):
    """The curve's own points group and its sub-curves' (the trip models' MustTrip, MayTrip, MomCess)."""
    if "Pt" in curve.groups:
        yield curve.groups["Pt"]
    for name in ("MustTrip", "MayTrip", "MomCess"):
        if name in curve.groups:
            yield curve.groups[name].groups["Pt"]


def values(group):
    """Every point of a curve (nested groups included) by path."""
    result = {}
    for name, point in group.points.items():
        result[name] = point.cvalue
    for name, sub in group.groups.items():
        for index, item in enumerate(sub if isinstance(sub, list) else [sub]):
            for key, value in values(item).items():
                result[f"{name}[{index}].{key}"] = value
    return result


def copy(source, target):
    """Curve `source`'s writable values onto curve `target`, then one write of the group."""
    for name, point in source.points.items():
        if point.pdef.get("access") == "RW" and point.is_impl():
            target.points[name].cvalue = point.cvalue
    for name, sub in source.groups.items():
        items = sub if isinstance(sub, list) else [sub]
        targets = target.groups[name] if isinstance(target.groups[name], list) else [target.groups[name]]
        for item, other in zip(items, targets):
            copy(item, other)


def adopt(model, request, result, index):
    """Requests curve `index`; the final result (1 COMPLETED, 2 FAILED) or the refusal's text."""
    refused = written(model.points[request], index)
    if refused:
        return refused
    for _ in range(20):
        wait(1)
        outcome = read(model, result)
        if outcome != 0:
            return outcome
    return 0


def check_curves(model):
    global checks
    group_name, curves = groups_of(model)
    request = "AdptCrvReq" if "AdptCrvReq" in model.points else "AdptCtlReq"
    result = request.replace("Req", "Rslt")
    model_id = model.model_id
    if len(curves) < 3:
        fail(model_id, group_name, "CRV", f"{len(curves)} curves: at least 3 expected")
        return
    model.read()
    first = curves[0]
    copy(first, curves[2])  # curve 3: curve 1 as it starts, for CRV-2 and the reversion
    curves[2].write()
    # CRV-1: curve 1 read-only; curve 2, a valid variant of curve 1, is adopted and in force.
    checks += 1
    if first.points["ReadOnly"].cvalue != 1:
        fail(model_id, "ReadOnly", "CRV-1", "curve 1 is not read-only")
    copy(first, curves[1])
    moved = None
    for points in point_groups(curves[1]):
        for name, delta in MOVES.items():
            if name in points[0].points and points[0].points[name].is_impl():
                points[0].points[name].cvalue = points[0].points[name].cvalue + delta
                moved = (name, points[0].points[name].cvalue)
                break
        break
    if moved is None:
        for name, delta in MOVES.items():
            if name in curves[1].points:
                curves[1].points[name].cvalue = curves[1].points[name].cvalue + delta
                moved = (name, curves[1].points[name].cvalue)
    try:
        curves[1].write()
    except Exception as error:
        fail(model_id, f"{group_name}[1]", "CRV-1", f"writing curve 2 refused: {error}")
        return
    outcome = adopt(model, request, result, 2)
    if outcome != 1:
        fail(model_id, request, "CRV-1", f"adopting a valid curve 2 gave {outcome}")
    elif values(curves[0]) | {"ReadOnly": 1} != values(curves[1]) | {"ReadOnly": 1}:
        fail(model_id, group_name, "CRV-1", "curve 1 does not hold the adopted curve's values")
    # CRV-2: curve 3 (curve 1 as it started) with its first two points out of order fails and leaves curve 1.
    checks += 1
    before = values(curves[0])
    swap = next(((points, axis) for points in point_groups(curves[2]) for axis in ("V", "Hz", "W")
                 if axis in points[0].points and len(points) > 1), None)
    if swap:
        points, axis = swap
        def exchange():
            points[0].points[axis].cvalue, points[1].points[axis].cvalue = points[1].points[axis].cvalue, points[0].points[axis].cvalue
            curves[2].write()
        try:
            exchange()
            outcome = adopt(model, request, result, 3)
            if outcome == 1:
                fail(model_id, request, "CRV-2", "a curve out of order was adopted")
            elif values(curves[0]) != before:
                fail(model_id, group_name, "CRV-2", "a failed adoption changed curve 1")
            exchange()
        except Exception:
            curves[2].read()  # refused at the write: a device may check on writes too
    # CRV-3: beyond the curves there are.
    checks += 1
    if adopt(model, request, result, len(curves) + 1) == 1:
        fail(model_id, request, "CRV-3", f"adopting curve {len(curves) + 1} of {len(curves)} COMPLETED")
    # REV-1 for curves: curve 2 (the variant) with a 30-s timer reverts to curve 3 (as curve 1 started).
    timer = "RvrtTms"
    if timer in model.points and model.points[timer].is_impl():
        checks += 1
        revert = "RvrtCrv" if "RvrtCrv" in model.points else "RvrtCtl"
        written(model.points[revert], 3)
        written(model.points[timer], 30)
        adopt(model, request, result, 2)
        wait(5)
        left = read(model, "RvrtRem")
        if not 0 < left <= 30:
            fail(model_id, "RvrtRem", "REV-1", f"reads {left} after an adoption with a 30-s timer")
        wait(40)
        model.read()
        if values(curves[0]) | {"ReadOnly": 1} != values(curves[2]) | {"ReadOnly": 1} or read(model, "RvrtRem") != 0:
            one, three = values(curves[0]), values(curves[2])
            fail(model_id, revert, "REV-1", f"curve 1 differs from curve 3 after the timer ran out: {[(k, one[k], three.get(k)) for k in one if k != 'ReadOnly' and one[k] != three.get(k)]}")
        written(model.points[timer], 0)


def main():
    global scale
    port, scale = int(sys.argv[1]), float(sys.argv[2])
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=5)
    device.scan()
    for model_id, models in device.models.items():
        if not isinstance(model_id, int):
            continue
        model = models[0]
        model.read()
        if model_id == 704:
            check_704(model)
        elif "AdptCrvReq" in model.points or "AdptCtlReq" in model.points:
            check_curves(model)
    device.close()
    print(json.dumps({"checks": checks, "failures": failures}))


if __name__ == "__main__":
    main()
