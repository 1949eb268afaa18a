"""Issue 16's two contradictions, at window level: the table row, the detail pane, the header and the reminder
banner say the same thing about a key, because all of them render the core's one assessment."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest

from PySide6.QtCore import Qt

from keyhygiene.core.assessment import summarize
from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.rotation.machine import RotationMachine
from keyhygiene.core.score import key_score
from keyhygiene.core.severity import Severity
from keyhygiene.store.vault import ServiceRef, Vault
from keyhygiene.ui.key_table_model import Col
from tests.helpers.gui import store
from tests.helpers.rotation_fakes import SERVICES, FakeClock, FakeExchange
from tests.helpers.simkeys import make_key

LEAK_TITLE = "key leak of 2022-12-28"


def _profile(created: datetime | None) -> KeyProfile:
    # A bot key that trades, restricted to its IPs: nothing but the sharing is wrong with it.
    return KeyProfile(exchange="binance", key="x", status=Status.OK, permissions=["read", "spot_trade"],
                      ip_restricted=True, ip_whitelist=["203.0.113.9"], created_at=created)


def _agree(w: Any, key_id: str) -> Any:
    """Assert that every surface of the window tells the same story about ``key_id``; return its row."""
    row = w.services.row(key_id)
    assert row is not None and row.assessment is not None
    findings = list(row.assessment.findings)
    # Table row: the worst finding's severity and the score the findings give.
    at = w.model.row_of(key_id)
    risk = w.model.index(at, Col.RISK).data(Qt.ItemDataRole.AccessibleTextRole)
    if findings:
        worst = findings[0].severity
        assert risk.startswith(f"{worst.capitalize()} risk"), risk
        assert f" {key_score(findings)}" in risk, risk
    assert row.score == key_score(findings)
    # Detail pane: the same findings, in the same order.
    w.select_key(key_id)
    assert [c.finding for c in w.detail.cards] == findings
    # Header: the core's summary of every key, as `keyhygiene status` prints it.
    summary = summarize(r.assessment for r in w.services.rows())
    assert w.headline.text() == summary.headline
    assert w.score_ring.score == summary.score
    if any(Severity(f.severity).at_least(Severity.HIGH) for f in findings):
        assert not w.headline.text().startswith("No urgent problems")
    # The list's "Needs attention" filter shows the keys the header counts.
    w.proxy.set_scope("attention")
    assert w.proxy.rowCount() == summary.needs_attention
    w.proxy.set_scope("all")
    # Banner: the worst reminder, which is one of the key's findings, with that finding's severity.
    w.reminders.refresh(announce=False)
    reminders = w.reminders.current
    if reminders:
        first = reminders[0]
        assert w.reminder_banner.isVisibleTo(w)
        assert w.reminder_banner.severity == first.severity
        assert first.text in w.reminder_banner.text()
        owner = w.services.row(first.key_id)
        assert any((f.rule, f.severity, f.title) == (first.rule, first.severity, first.title)
                   for f in owner.findings), first
    else:
        assert not w.reminder_banner.isVisibleTo(w)
    return row


@pytest.mark.parametrize(
    ("created", "severity"),
    [
        (datetime(2021, 5, 1, tzinfo=UTC), "high"),  # the exchange says it existed at the leak
        (None, "medium"),  # nobody knows when it was created: it may have existed
    ],
)
def test_a_key_shared_with_3commas_on_an_unknown_date(vault: Vault, make_window: Any, created: datetime | None,
                                                      severity: str) -> None:
    kid = store(vault, make_key("binance"), "Binance bot", purpose="bot", shared=[("3commas", None)])
    vault.repo.record_inspection(kid, _profile(created))
    w = make_window()
    row = _agree(w, kid)
    leak = [f for f in row.findings if f.rule == "shared_with_leaked_service"]
    assert [(f.severity, LEAK_TITLE in f.title) for f in leak] == [(severity, True)]
    # The banner says what the finding says, as loud as the finding: not a red "critical" over a medium finding.
    assert w.reminder_banner.severity == row.findings[0].severity
    assert LEAK_TITLE in w.reminder_banner.text()
    if severity == "high":
        assert w.headline.text() == "1 of 1 key need attention"
    else:  # not urgent, and the header does not sound all-clear while the banner reminds of the leak
        assert w.headline.text().startswith("No urgent problems \u00b7 ") and "reminder" in w.headline.text()


def test_a_key_the_exchange_says_was_created_after_the_leak_is_not_said_to_be_in_it(
        vault: Vault, make_window: Any) -> None:
    kid = store(vault, make_key("binance"), "Binance bot", purpose="bot", shared=[("3commas", None)])
    vault.repo.record_inspection(kid, _profile(datetime(2023, 6, 1, tzinfo=UTC)))
    w = make_window()
    row = _agree(w, kid)
    assert not [f for f in row.findings if f.rule == "shared_with_leaked_service"]
    assert "leak" not in w.reminder_banner.text().lower()
    # Its 2023 account-data breach did happen while 3Commas held the key: that one is marked, the leak is not.
    assert [i.kind for i in row.assessment.incidents] == ["account_data_breach"]


@pytest.mark.parametrize("shared_on", [None, date(2022, 6, 1)])
def test_after_a_completed_rotation_the_banner_no_longer_claims_the_leak(
        vault: Vault, make_window: Any, qtbot: Any, shared_on: date | None) -> None:
    exchange = FakeExchange(api_revoke={"binance"})
    old = exchange.add(permissions={"read", "spot_trade"}, ip_restricted=True)
    kid = vault.add_key("binance", "Binance bot", old, purpose="bot",
                        shared_with=[ServiceRef("3commas", shared_on)]).id
    vault.repo.record_inspection(kid, _profile(datetime(2021, 5, 1, tzinfo=UTC)))
    before = make_window()
    row = _agree(before, kid)
    assert any(f.rule == "shared_with_leaked_service" for f in row.findings)
    assert LEAK_TITLE in before.reminder_banner.text()
    before.close()

    # The whole rotation, as the wizard drives it: the new key replaces the old one, 3Commas is not kept.
    clock = FakeClock()
    m = RotationMachine(vault, kid, exchange.ops(), services=SERVICES.get, hook=None, sleep=clock.sleep,
                        clock=clock)
    m.load()
    m.start(asyncio.run(m.plan()))
    asyncio.run(m.store_new_key(exchange.add(permissions={"read", "spot_trade"}, ip_restricted=True)))
    asyncio.run(m.test_new_key())
    m.confirm_consumers(tick_all=True)
    asyncio.run(m.revoke_old())
    asyncio.run(m.verify_old_dead(timeout=0))
    asyncio.run(m.finish())

    w = make_window()
    row = _agree(w, kid)
    assert not [f for f in row.findings if f.rule == "shared_with_leaked_service"]
    assert not row.incident_services
    assert LEAK_TITLE not in w.reminder_banner.text() and "3Commas" not in w.reminder_banner.text()
    if row.score == 100:
        assert w.headline.text() == "Every key follows your policy" and not w.reminder_banner.isVisibleTo(w)
