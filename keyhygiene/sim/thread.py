"""Run the simulator on its own event loop in a background thread (synchronous tests, CLI tests, the demo)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from keyhygiene.sim.model import SimKey
from keyhygiene.sim.server import Simulator


class SimulatorThread:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="keyhygiene-sim", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.sim.start())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.sim.stop())
        self.loop.close()

    def start(self) -> Simulator:
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self.sim

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


@contextmanager
def run_simulator_in_thread(keys: Iterable[SimKey] = (), **kwargs: Any) -> Iterator[Simulator]:
    sim = Simulator(**kwargs)
    for k in keys:
        sim.add_key(k)
    runner = SimulatorThread(sim)
    runner.start()
    try:
        yield sim
    finally:
        runner.stop()
