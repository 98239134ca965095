"""One line per run of `make seeds`: the verdict, each kind's deviation from its awards over the day (sum of
|delivered - awarded| over the sum of awarded energy), and the PCC's deviation from the grid's schedule. Exits 1
if the run failed an assertion or a kind went past the issue's goals (EVs and batteries 10 %, thermostats 35 %)."""
import json
import sys

rig, seed, path = sys.argv[1], sys.argv[2], sys.argv[3]
results = json.load(open(path))
kinds = {"ev": [0.0, 0.0], "battery": [0.0, 0.0], "thermostat": [0.0, 0.0], "pv": [0.0, 0.0]}
for device in results["devices"]:
    name = device["device"].split("/")[1]
    kind = "ev" if name.startswith("ev") else "pv" if name.startswith("pv") else name.rstrip("0123456789")
    if kind in kinds:
        kinds[kind][0] += device["deviation_kwh"]
        kinds[kind][1] += device["awarded_kwh"]
shares = {kind: (d / a * 100 if a > 0 else 0.0) for kind, (d, a) in kinds.items()}
verdicts = {a["name"]: a for a in results["assertions"]}
balance = verdicts["balance"]["measured"]
failed = [name for name, a in verdicts.items() if not a["passed"]]
goals = {"ev": 10, "battery": 10, "thermostat": 35}
over = [kind for kind, goal in goals.items() if shares[kind] > goal]
print(f"{rig:16} seed {seed:>2}: {'PASS' if not failed else 'FAIL ' + ','.join(failed)}  "
      + "  ".join(f"{kind} {shares[kind]:5.1f} %" for kind in kinds) + f"  PCC {balance}"
      + f"  fallbacks: {verdicts['watchdog-fallbacks']['measured']}")
sys.exit(1 if (failed or over) and "--report-only" not in sys.argv else 0)
