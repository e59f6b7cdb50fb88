#!/usr/bin/python3
"""An independent Modbus server for the integration tests: pymodbus (Debian's
python3-pymodbus) serving fixed register values read from a JSON file, over TCP or over a
serial line (RTU framing).

    pymodbus_server.py SPEC.json --tcp PORT        # PORT 0: pick a free one
    pymodbus_server.py SPEC.json --rtu DEVICE [--baud N]

Prints "listening PORT" (TCP) or "listening DEVICE" (RTU) on stdout once it serves.

SPEC.json:
    {"units": {"1": {"holding":  {"3203": [0, 0, 1, 2]},      # address: registers from there
                     "input":    {"0x48": [17509, 8858]},
                     "coil":     {"0": [1, 0, 1]},
                     "discrete": {"0": [1]},
                     "exceptions": [["holding", 3000, 4]]}}}   # table, first address, count
Addresses are 0-based protocol addresses (the slave contexts run in zero_mode: pymodbus
would otherwise add one to every address). A read touching an "exceptions" range is
answered with exception 02 (illegal data address); everything else reads as written, or 0.
"""
import argparse
import asyncio
import json
import logging
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server.async_io import StartAsyncSerialServer, StartAsyncTcpServer

TABLES = {"holding": "hr", "input": "ir", "coil": "co", "discrete": "di"}
SIZE = 65536


class FaultyBlock(ModbusSequentialDataBlock):
    """A full 64k block whose listed ranges refuse to be read (IllegalAddress)."""

    def __init__(self, values, bad):
        super().__init__(0, values)
        self.bad = bad

    def validate(self, address, count=1):
        for first, n in self.bad:
            if address < first + n and first < address + count:
                return False
        return super().validate(address, count)


def number(text):
    return int(text, 0) if isinstance(text, str) else int(text)


def build_context(spec):
    slaves = {}
    for unit, tables in spec["units"].items():
        blocks = {}
        bad = {name: [] for name in TABLES}
        for table, first, count in tables.get("exceptions", []):
            bad[table].append((number(first), number(count)))
        for name, key in TABLES.items():
            values = [0] * SIZE
            for address, regs in tables.get(name, {}).items():
                a = number(address)
                for i, v in enumerate(regs):
                    values[a + i] = number(v) & 0xFFFF
            blocks[key] = FaultyBlock(values, bad[name])
        slaves[number(unit)] = ModbusSlaveContext(zero_mode=True, **blocks)
    return ModbusServerContext(slaves=slaves, single=False)


async def serve_tcp(context, port):
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", port),
                                       defer_start=True, allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print("listening", server.server.sockets[0].getsockname()[1], flush=True)
    await task


async def serve_rtu(context, device, baud):
    # An RTU bus answers only for the units on it: a request for another unit id is
    # somebody else's and gets no reply.
    server = await StartAsyncSerialServer(context=context, framer=ModbusRtuFramer,
                                          port=device, baudrate=baud, defer_start=True,
                                          ignore_missing_slaves=True)
    await server.start()
    print("listening", device, flush=True)
    await server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec")
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--rtu")
    ap.add_argument("--baud", type=int, default=19200)
    args = ap.parse_args()
    if (args.tcp is None) == (args.rtu is None):
        ap.error("give exactly one of --tcp PORT and --rtu DEVICE")
    # pymodbus logs every clean client disconnect as an error: keep stderr for real trouble.
    logging.basicConfig(level=logging.CRITICAL)
    with open(args.spec, encoding="utf-8") as f:
        context = build_context(json.load(f))
    try:
        if args.tcp is not None:
            asyncio.run(serve_tcp(context, args.tcp))
        else:
            asyncio.run(serve_rtu(context, args.rtu, args.baud))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
