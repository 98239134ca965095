"""Drives an emulated DER through py20305's SunSpec connector, as its IEEE 2030.5 client does a real one.

Usage: py20305_control.py PORT ACTION [JSON]
- ACTION "read": scans the device (py20305's readiness check: model 702 present and populated) and prints its
  monitoring, nameplate, status and configuration.
- ACTION an update method of the connector (update_p_lim, update_fixed_w, update_target_w, update_const_q,
  update_const_pf, update_qv, update_pv, update_qp, update_pf): calls it with JSON as its parameters. py20305 writes
  no reversion timers; a "revert" list of {"model": ID, "point": NAME, "value": N} is written first with pysunspec2
  on the connector's own device (RvrtTms, RvrtCrv), so that the control's timer runs.
Output: one JSON object; the exit status is 1 when py20305 raised (its message in "error").
"""
import asyncio
import json
import sys

from py20305.connectors.sunspec import ConnectorSunSpec


async def main(port, action, params):
    connector = ConnectorSunSpec(host="127.0.0.1", port=port, scan_retries=1, scan_retry_delay=0.5)
    if action == "read":
        return {
            "monitoring": await connector.fetch_monitoring(),
            "nameplate": await connector.fetch_nameplate(),
            "status": await connector.fetch_status(),
            "configuration": await connector.fetch_configuration(),
        }
    for setting in params.pop("revert", []):
        point = connector._target.models[setting["model"]][0].points[setting["point"]]
        point.cvalue = setting["value"]
        point.write()
    await getattr(connector, action)(params)
    return {"applied": action}


if __name__ == "__main__":
    port, action = int(sys.argv[1]), sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    try:
        print(json.dumps(asyncio.run(main(port, action, params)), default=str))
    except Exception as error:  # the peer's own refusal is the result under test
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
