"""What a misbehaving exchange does to ``inspect --json``: a documented status with a message, exit 4, one JSON
object, no traceback, for each of the twelve. The faults come from a simulator process started with them on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import TWELVE, Cli, SimKeySpec, SimProcess, check_profile

# Fault -> statuses a script may see. A gateway's HTML page or a 500 may read as "could not be reached" or as
# "answered with something unexpected"; both are documented and both carry a message.
EXPECTED: dict[str, set[str]] = {
    "http_418": {"rate_limited"},
    "http_429": {"rate_limited"},
    "malformed_json": {"error"},
    "html": {"error", "unreachable"},
    "http_500": {"error", "unreachable"},
    # Exchanges whose client can resync its clock recover (ok); the others must say clock_skew, not guess.
    "clock_skew": {"ok", "clock_skew"},
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(EXPECTED))
def test_each_fault_gives_a_documented_status(fault: str, cli: Cli, catalogue: SimCatalogue,
                                              start_sim: Callable[..., SimProcess]) -> None:
    keys = [SimKeySpec(catalogue[ex, "read_only"], {"permissions": ["read"]}) for ex in TWELVE]
    sim = start_sim(keys, fault=fault)
    got: dict[str, str] = {}
    for ex in TWELVE:
        r = cli.run("inspect", "--exchange", ex, "--json", env=catalogue[ex, "read_only"].env()
                    | {"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
        d = r.json()
        check_profile(d, ex)
        assert r.returncode == (0 if d["status"] == "ok" else 4), r
        got[ex] = d["status"]
    wrong = {ex: s for ex, s in got.items() if s not in EXPECTED[fault]}
    assert not wrong, f"{fault}: {wrong} (expected one of {sorted(EXPECTED[fault])})"
    if fault == "clock_skew":
        # At least the exchanges that cannot resync must report it rather than pass or misname it.
        assert "clock_skew" in got.values(), got
