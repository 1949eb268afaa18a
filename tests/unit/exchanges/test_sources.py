"""Issue 15 item 8: every mapping row keeps its source, and what no exchange says is shown as "not said"."""

from __future__ import annotations

import pytest

from keyhygiene.core.permissions import DECLARED_BEYOND_READ
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.bybit import UTA_SPOT
from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.exchanges.mexc import ACCOUNT_FACTS


@pytest.mark.parametrize("exchange", SUPPORTED)
def test_every_row_names_its_source(exchange: str) -> None:
    adapter = get_adapter(exchange)
    assert adapter is not None
    for grant in adapter.table.grants.values():
        src = grant.source.strip()
        assert len(src) >= 12, (exchange, grant.raw, src)
        # The exchange's own page or SDK, never a hedge or the team's notes as the only ground.
        assert "unconfirmed" not in src.lower(), (exchange, grant.raw, src)


def test_rows_outside_the_tables_name_their_source_too() -> None:
    assert "create-order" in UTA_SPOT.source and "spot-margin-uta" in UTA_SPOT.source
    assert all(len(s) >= 12 for s in ACCOUNT_FACTS.values())


@pytest.mark.parametrize("exchange", SUPPORTED)
def test_declared_beyond_read_matches_the_adapters(exchange: str) -> None:
    adapter = get_adapter(exchange)
    assert adapter is not None
    assert (exchange in DECLARED_BEYOND_READ) is (not adapter.reports_permissions)
