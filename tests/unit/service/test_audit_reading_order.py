"""The order a team vault's secrets are read in during an audit (service.audit._reading_order), the order the checks
start in (audit_runner.start_ranks): the checks that may start at once come first, those of exchanges whose keys
make several requests in turn (the audit's critical path) before the others, one key of each exchange in turn; the
next windows' keys after them."""

from __future__ import annotations

from datetime import UTC, datetime

from keyhygiene.core.models import KeyRecord
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.limits import budget_for
from keyhygiene.service.audit import _reading_order


def _key(exchange: str, n: int) -> KeyRecord:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return KeyRecord(id=f"k{exchange}{n}", exchange=exchange, label=f"{exchange} {n}", purpose="bot",
                     fingerprint="x", key_sha256=f"{exchange}{n}", created_at=None, added_at=at, updated_at=at)


def test_the_keys_that_bound_the_audit_are_read_first() -> None:
    assert get_adapter("bingx").requests_in_turn > get_adapter("binance").requests_in_turn
    window = budget_for("binance").per_ip.requests
    assert budget_for("bingx").per_ip.requests == window  # both 10 a second: the first window is 10 keys each
    keys = [_key("binance", i) for i in range(window + 2)] + [_key("bingx", i) for i in range(window + 2)]
    order = [(k.exchange, int(k.id[len("k") + len(k.exchange):])) for k in _reading_order(keys)]
    assert order[:window] == [("bingx", i) for i in range(window)]  # the longer chains' first window
    assert order[window:2 * window] == [("binance", i) for i in range(window)]
    assert sorted(order[2 * window:]) == [("binance", window), ("binance", window + 1), ("bingx", window),
                                          ("bingx", window + 1)]  # the second window's keys last
    assert sorted(_reading_order(keys), key=lambda k: k.id) == sorted(keys, key=lambda k: k.id)  # none lost


def test_exchanges_alike_take_turns() -> None:
    keys = [_key("binance", i) for i in range(3)] + [_key("kraken", i) for i in range(3)]
    assert [k.exchange for k in _reading_order(keys)] == ["binance", "kraken"] * 3
