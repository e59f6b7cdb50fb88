#!/usr/bin/python3
"""snmpd pass_persist handler serving PDU-like trees whose values move with time.

Registered by the tests under .1.3.6.1.4.1 (enterprises). Values (t = seconds since start):
  APC rPDU2      device power 345 (0.01 kW) = 3.45 kW; energy 123400 + t (0.1 kWh)
                 phases 1..3: current 52+i (0.1 A), voltage 230 V, power 115+i (0.01 kW)
                 outlets 1..24: power 100+i W, energy 1000*i + t (0.1 kWh)
  Raritan PDU2   inlet 1.1: current 123 @2 digits, voltage 2301 @1, power 1500 @0,
                 energy 500000 + 10 t Wh @0; inlet 1.2: power 700 @0, energy 9000 Wh
  test subtree .99999: .1.0 Counter32 starting 1000 below 2^32, +300 per second (wraps)
                       .2.0 Counter64 2^40 + t, .3.0 STRING "230.5"
"""
import sys
import time

START = time.time()
APC = (1, 3, 6, 1, 4, 1, 318, 1, 1, 26)
RAR = (1, 3, 6, 1, 4, 1, 13742, 6)
TST = (1, 3, 6, 1, 4, 1, 99999)


def tree():
    t = int(time.time() - START)
    v = {}
    v[APC + (4, 3, 1, 5, 1)] = ("integer", 345)
    v[APC + (4, 3, 1, 9, 1)] = ("integer", 123400 + t)
    for i in (1, 2, 3):
        v[APC + (6, 3, 1, 5, i)] = ("integer", 52 + i)
        v[APC + (6, 3, 1, 6, i)] = ("integer", 230)
        v[APC + (6, 3, 1, 7, i)] = ("integer", 115 + i)
    for i in range(1, 25):
        v[APC + (9, 4, 3, 1, 7, i)] = ("integer", 100 + i)
        v[APC + (9, 4, 3, 1, 11, i)] = ("integer", 1000 * i + t)
    inlets = {(1, 1): {1: (123, 2), 4: (2301, 1), 5: (1500, 0), 8: (500000 + 10 * t, 0)},
              (1, 2): {5: (700, 0), 8: (9000, 0)}}
    for (pdu, inlet), sensors in inlets.items():
        for st, (raw, digits) in sensors.items():
            v[RAR + (5, 2, 3, 1, 4, pdu, inlet, st)] = ("gauge", raw)
            v[RAR + (3, 3, 4, 1, 7, pdu, inlet, st)] = ("gauge", digits)
    v[TST + (1, 0)] = ("counter", (2**32 - 1000 + 300 * t) % 2**32)
    v[TST + (2, 0)] = ("counter64", 2**40 + t)
    v[TST + (3, 0)] = ("string", "230.5")
    return v


def parse(s):
    return tuple(int(x) for x in s.strip().strip(".").split(".") if x)


def fmt(o):
    return "." + ".".join(str(x) for x in o)


def reply(o, tv):
    sys.stdout.write("%s\n%s\n%s\n" % (fmt(o), tv[0], tv[1]))


def main():
    while True:
        cmd = sys.stdin.readline()
        if not cmd:
            return
        cmd = cmd.strip()
        if cmd == "PING":
            sys.stdout.write("PONG\n")
        elif cmd in ("get", "getnext"):
            o = parse(sys.stdin.readline())
            v = tree()
            if cmd == "get":
                if o in v:
                    reply(o, v[o])
                else:
                    sys.stdout.write("NONE\n")
            else:
                nxt = [k for k in v if k > o]
                if nxt:
                    k = min(nxt)
                    reply(k, v[k])
                else:
                    sys.stdout.write("NONE\n")
        elif cmd == "set":
            sys.stdin.readline()
            sys.stdin.readline()
            sys.stdout.write("not-writable\n")
        else:
            sys.stdout.write("NONE\n")
        sys.stdout.flush()


main()
