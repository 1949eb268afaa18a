"""``python -m keyhygiene.sim [--keys FILE] [--latency S]``: run the simulator until interrupted.

Keys come from a JSON file: a list of objects with SimKey's fields (permissions as a list). Prints one
``exchange=url`` line per exchange, ready for ``--endpoint`` or KEYHYGIENE_ENDPOINTS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from keyhygiene.core.timeutil import parse_iso
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.server import Simulator


def load_keys(path: Path) -> list[SimKey]:
    out = []
    for d in json.loads(path.read_text(encoding="utf-8")):
        d = dict(d)
        d["permissions"] = set(d.get("permissions") or ["read"])
        for f in ("created_at", "expires_at", "trade_expires_at"):
            if d.get(f):
                d[f] = parse_iso(d[f])
        out.append(SimKey(**d))
    return out


async def serve(args: argparse.Namespace) -> None:
    sim = Simulator(latency=args.latency, enforce_rate_limits=not args.no_rate_limits)
    if args.keys:
        for k in load_keys(Path(args.keys)):
            sim.add_key(k)
    eps = await sim.start(host=args.host)
    for ex, url in eps.items():
        print(f"{ex}={url}")
    print("KEYHYGIENE_ENDPOINTS=" + ",".join(f"{e}={u}" for e, u in eps.items()), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m keyhygiene.sim", description=__doc__)
    p.add_argument("--keys", help="JSON file with the keys the exchanges know")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--no-rate-limits", action="store_true")
    args = p.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
