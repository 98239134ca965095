#!/usr/bin/env python3
"""A radial low-voltage feeder as a HELICS federate, for GridRig's co-simulation (docs/COSIM.md).

A 20/0.4 kV transformer feeds a cable that runs past the houses one after another, a house on each bus. At every
time GridRig publishes, the feeder takes each house's active and reactive power (gridrig/<house>/p in W and
gridrig/<house>/q in var, drawn from the grid positive), solves a balanced power flow with pandapower, and
publishes each house's phase-to-neutral voltage (feeder/<house>/voltage, V) and the transformer's low-voltage
busbar as feeder/pcc/voltage. GridRig reads them at its next grant.

  python3 examples/cosim/feeder.py --broker 127.0.0.1:23404 --houses h1,h2,h3,h4,h5,h6

Started by GridRig (a rig's cosim federates), it finds the broker, the houses and GridRig's name in
GRIDRIG_HELICS_BROKER, GRIDRIG_HOUSES and GRIDRIG_FEDERATE.
"""
import argparse
import os
import sys
import time

import helics as h
import pandapower as pp


def build(houses, segment_km, cable, source_pu, transformer):
    net = pp.create_empty_network()
    mv = pp.create_bus(net, vn_kv=20.0, name="mv")
    busbar = pp.create_bus(net, vn_kv=0.4, name="pcc")
    pp.create_ext_grid(net, mv, vm_pu=source_pu)
    pp.create_transformer(net, mv, busbar, std_type=transformer)
    buses, loads, previous = {}, {}, busbar
    for house in houses:
        bus = pp.create_bus(net, vn_kv=0.4, name=house)
        pp.create_line(net, previous, bus, length_km=segment_km, std_type=cable)
        loads[house] = pp.create_load(net, bus, p_mw=0.0, q_mvar=0.0, name=house)
        buses[house], previous = bus, bus
    return net, busbar, buses, loads


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", default=os.environ.get("GRIDRIG_HELICS_BROKER", "127.0.0.1:23404"), help="the HELICS broker, host:port")
    parser.add_argument("--houses", default=os.environ.get("GRIDRIG_HOUSES", ""), help="house names in order along the feeder, comma-separated")
    parser.add_argument("--name", default="feeder", help="this federate's name and the prefix of its publications")
    parser.add_argument("--gridrig", default=os.environ.get("GRIDRIG_FEDERATE", "gridrig"), help="GridRig's federate name (the prefix of what it publishes)")
    parser.add_argument("--segment-km", type=float, default=0.3, help="cable length between neighbouring houses, km")
    parser.add_argument("--cable", default="NAYY 4x50 SE", help="pandapower standard cable type")
    parser.add_argument("--transformer", default="0.25 MVA 20/0.4 kV", help="pandapower standard transformer type")
    parser.add_argument("--source-pu", type=float, default=1.02, help="the medium-voltage source, per unit")
    parser.add_argument("--nominal", type=float, default=230.0, help="nominal phase-to-neutral voltage, V")
    args = parser.parse_args()
    houses = [house for house in args.houses.split(",") if house]
    if not houses:
        sys.exit("feeder: --houses names no house")
    net, busbar, buses, loads = build(houses, args.segment_km, args.cable, args.source_pu, args.transformer)

    info = h.helicsCreateFederateInfo()
    h.helicsFederateInfoSetCoreTypeFromString(info, "zmq")
    h.helicsFederateInfoSetCoreInitString(info, "--federates=1")
    h.helicsFederateInfoSetBroker(info, "tcp://" + args.broker)
    h.helicsFederateInfoSetIntegerProperty(info, h.HELICS_PROPERTY_INT_LOG_LEVEL, h.HELICS_LOG_LEVEL_WARNING)
    federate = h.helicsCreateValueFederate(args.name, info)
    power = {house: (h.helicsFederateRegisterSubscription(federate, f"{args.gridrig}/{house}/p", "W"),
                     h.helicsFederateRegisterSubscription(federate, f"{args.gridrig}/{house}/q", "var")) for house in houses}
    voltage = {place: h.helicsFederateRegisterGlobalTypePublication(federate, f"{args.name}/{place}/voltage", "double", "V")
               for place in houses + ["pcc"]}
    h.helicsFederateEnterExecutingMode(federate)
    solves, solving = 0, 0.0
    while True:
        granted = h.helicsFederateRequestTime(federate, h.HELICS_TIME_MAXTIME)
        if granted >= h.HELICS_TIME_MAXTIME:
            break
        for house, (p, q) in power.items():
            net.load.at[loads[house], "p_mw"] = h.helicsInputGetDouble(p) / 1e6
            net.load.at[loads[house], "q_mvar"] = h.helicsInputGetDouble(q) / 1e6
        began = time.perf_counter()
        pp.runpp(net, init="results" if solves else "auto", numba=False)
        solving += time.perf_counter() - began
        solves += 1
        for house in houses:
            h.helicsPublicationPublishDouble(voltage[house], float(net.res_bus.vm_pu.at[buses[house]]) * args.nominal)
        h.helicsPublicationPublishDouble(voltage["pcc"], float(net.res_bus.vm_pu.at[busbar]) * args.nominal)
    h.helicsFederateDisconnect(federate)
    h.helicsFederateFree(federate)
    print(f"feeder: {solves} power flows, {1000 * solving / max(solves, 1):.1f} ms each", file=sys.stderr)


if __name__ == "__main__":
    main()
