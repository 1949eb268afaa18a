"""``rules.context_for``: the one place audit, report and window look up a failing key's last good inspection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.rules import LAST_GOOD_LOOKBACK, RuleContext, context_for
from tests.unit.core.rule_factories import ago, make_profile

KID = "k0000001"
Inspection = tuple[datetime, KeyProfile]


class History:
    """A stand-in for ``Repository.inspection_history``: newest first, and it remembers what it was asked."""

    def __init__(self, rows: Iterable[Inspection]) -> None:
        self.rows = list(rows)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, key_id: str, limit: int) -> list[Inspection]:
        self.calls.append((key_id, limit))
        return self.rows[:limit]


def failed(days: float) -> Inspection:
    return ago(days), make_profile(status=Status.UNREACHABLE, perms=())


def good(days: float, *perms: str) -> Inspection:
    return ago(days), make_profile(perms=perms or ("read",))


def test_latest_ok_needs_no_fallback_and_no_history_query() -> None:
    history = History([good(1, "withdraw")])
    ctx = context_for(KID, make_profile(), history)
    assert ctx.last_good == {} and history.calls == []


def test_latest_failed_falls_back_to_the_newest_earlier_ok() -> None:
    newest_ok, older_ok = good(2, "read", "withdraw"), good(9, "read")
    history = History([failed(0), failed(1), newest_ok, older_ok])
    ctx = context_for(KID, history.rows[0][1], history)
    assert ctx.last_good == {KID: newest_ok}
    assert history.calls == [(KID, LAST_GOOD_LOOKBACK)]


def test_never_inspected_also_looks_in_the_history() -> None:
    history = History([good(2)])
    assert context_for(KID, None, history).last_good == {KID: history.rows[0]}


def test_no_ok_in_history_gives_no_fallback() -> None:
    history = History([failed(0), failed(1)])
    assert context_for(KID, history.rows[0][1], history).last_good == {}


def test_an_ok_older_than_the_lookback_is_not_used() -> None:
    history = History([failed(d) for d in range(LAST_GOOD_LOOKBACK)] + [good(LAST_GOOD_LOOKBACK + 1)])
    assert context_for(KID, history.rows[0][1], history).last_good == {}


def test_the_base_context_is_kept() -> None:
    other = good(5)
    base = RuleContext(plaintext_copies={KID: ["/home/me/.env"]}, last_good={"k0000002": other})
    # No fallback found: the base itself, with whatever the caller already knew about this key.
    assert context_for(KID, failed(0)[1], History([]), base) is base
    ok = good(3)
    ctx = context_for(KID, failed(0)[1], History([failed(0), ok]), base)
    assert ctx.plaintext_copies == base.plaintext_copies
    assert ctx.last_good == {"k0000002": other, KID: ok}
    assert base.last_good == {"k0000002": other}  # the caller's context is not changed
