"""The simulator as its own process, with faults switched on from the start.

``python -m keyhygiene.sim`` has no fault flags; an outside checker's emulator throws 429s, HTML pages and skewed
clocks at the CLI, so this launcher does the same with the real Simulator, in a separate process, printing the
same ``KEYHYGIENE_ENDPOINTS=`` line. Run as a script: ``python fault_sim.py --keys FILE --fault KIND``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from keyhygiene.sim.__main__ import load_keys
from keyhygiene.sim.server import FAULT_KINDS, Simulator


async def serve(keys: Path, fault: str) -> None:
    sim = Simulator(enforce_rate_limits=False)
    for k in load_keys(keys):
        sim.add_key(k)
    eps = await sim.start()
    for ex in eps:
        sim.inject_fault(ex, fault)  # count=None: every request to every exchange gets it
    print("KEYHYGIENE_ENDPOINTS=" + ",".join(f"{e}={u}" for e, u in eps.items()), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--keys", required=True, type=Path)
    p.add_argument("--fault", required=True, choices=FAULT_KINDS)
    args = p.parse_args()
    try:
        asyncio.run(serve(args.keys, args.fault))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
