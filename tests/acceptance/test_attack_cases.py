"""Issue 18's attack pass as a test: every case tried gives a clear error; no traceback, hang, loss or leak."""

from __future__ import annotations

import pytest

from tests.acceptance.attack_cases import run_all, table


@pytest.mark.slow
def test_the_attack_cases_end_in_clear_errors_only() -> None:
    outcomes = run_all()
    print(table(outcomes))
    assert all(o.tried for o in outcomes)
    bad = [o for o in outcomes if o.traceback or o.hang or o.lost or o.leaked or o.clear != o.tried]
    assert not bad, table(bad)
