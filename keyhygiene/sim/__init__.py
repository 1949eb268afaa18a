"""Loopback exchange simulator for tests, the demo and benchmarks. Checks signatures as each exchange does."""

from keyhygiene.sim.console import console_url
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.server import FAULT_KINDS, Simulator
from keyhygiene.sim.thread import SimulatorThread, run_simulator_in_thread

__all__ = ["FAULT_KINDS", "SimKey", "console_url", "Simulator", "SimulatorThread", "run_simulator_in_thread"]
