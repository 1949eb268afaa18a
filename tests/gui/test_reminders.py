"""Reminders: which keys are due, expiring or touched by an incident; announced once; shown in the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from keyhygiene.core.assessment import assess
from keyhygiene.core.models import Exposure, KeyProfile, KeyRecord, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import load_registry
from keyhygiene.ui.key_row import KeyRow
from keyhygiene.ui.reminders import ReminderCenter, collect
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _row(label: str, created_days: int | None = None, expires_days: float | None = None,
         trade_days: float | None = None, shared: tuple[str, date | None] | None = None) -> KeyRow:
    rec = KeyRecord(id=f"k{label}", exchange="binance", label=label, purpose="bot", fingerprint="ab\u2026cd",
                    key_sha256="x", created_at=NOW - timedelta(days=created_days) if created_days else None,
                    added_at=NOW, updated_at=NOW,
                    exposures=[Exposure(service=shared[0], shared_at=shared[1])] if shared else [])
    prof = KeyProfile(exchange="binance", key="ab\u2026cd", status=Status.OK, permissions=["read"],
                      ip_restricted=True,
                      expires_at=NOW + timedelta(days=expires_days) if expires_days is not None else None,
                      trade_expires_at=NOW + timedelta(days=trade_days) if trade_days is not None else None)
    a = assess(rec, prof, NOW, policy=Policy(), registry=load_registry(), now=NOW)
    return KeyRow(record=rec, profile=prof, findings=list(a.findings), score=a.score, assessment=a)


def test_reminders_are_the_findings_of_the_reminder_rules() -> None:
    rows = [_row("fresh", 10), _row("old", 100), _row("ancient", 400), _row("expiring", 5, expires_days=3.5),
            _row("trade", 5, trade_days=1), _row("expired", 5, expires_days=-2), _row("later", 5, expires_days=40),
            _row("leaked", 2000, shared=("3commas", date(2022, 3, 1)))]
    found = collect(rows)
    kinds = {(r.label, r.kind) for r in found}
    assert kinds == {("old", "age"), ("ancient", "age"), ("expiring", "expiry"), ("trade", "expiry"),
                     ("expired", "expiry"), ("leaked", "age"), ("leaked", "incident")}
    assert found[0].kind == "incident" and found[0].severity == "critical"  # worst first
    for r in found:  # every reminder is one of its key's findings, with that finding's rule, severity and title
        row = next(x for x in rows if x.id == r.key_id)
        assert any((f.rule, f.severity, f.title) == (r.rule, r.severity, r.title) for f in row.findings), r
    by = {(r.label, r.kind): r for r in found}
    assert by[("ancient", "age")].severity == "high" and by[("old", "age")].severity == "medium"
    assert "Trading permission" in by[("trade", "expiry")].text
    assert "4 days" in by[("expiring", "expiry")].text
    leak = next(r for r in found if r.rule == "shared_with_leaked_service")
    assert leak.label == "leaked" and "3Commas" in leak.text and "2022-12-28" in leak.text
    assert not any(r.label in ("fresh", "later") for r in found)


def test_center_announces_only_new_reminders(qapp) -> None:  # type: ignore[no-untyped-def]
    current = [_row("old", 100)]
    center = ReminderCenter(lambda: collect(current))
    announced: list[list] = []
    center.announce.connect(announced.append)
    center.refresh()
    center.refresh()
    assert len(announced) == 1 and announced[0][0].label == "old"
    current.append(_row("older", 200))
    center.refresh()
    assert [r.label for r in announced[-1]] == ["older"]
    center.set_interval_hours(2)
    assert center.interval_ms() == 2 * 3600 * 1000
    center.set_interval_hours(0)
    assert center.interval_ms() == 0


def test_window_banner_and_tray_notification(vault, make_window, qtbot,
                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("binance"), "Given to 3Commas", shared=[("3commas", date(2022, 3, 1))])
    w = make_window()
    qtbot.waitUntil(lambda: w.reminder_banner.isVisibleTo(w), timeout=WAIT_MS)
    assert "3Commas" in w.reminder_banner.text()
    show = next(b for b in w.reminder_banner.buttons() if b.text() == "Show key")
    show.click()
    assert w.detail.key_id == kid

    class FakeTray:
        def __init__(self) -> None:
            self.got: list = []

        def notify(self, reminders: list) -> None:
            self.got.append(reminders)

        def hide(self) -> None:
            pass

    tray = FakeTray()
    w.tray = tray
    vault.update_key(kid, created_at=datetime.now(UTC) - timedelta(days=500))
    with qtbot.waitSignal(w.services.rowChanged, timeout=WAIT_MS):  # read again on a worker
        w.services.refresh_row(kid)
    w.reminders.refresh(announce=True)
    assert tray.got and any(r.kind == "age" for r in tray.got[-1])
    w.services.prefs.notify_desktop = False
    vault.update_key(kid, created_at=datetime.now(UTC) - timedelta(days=900))
    with qtbot.waitSignal(w.services.rowChanged, timeout=WAIT_MS):  # read again on a worker
        w.services.refresh_row(kid)
    n = len(tray.got)
    w.reminders.refresh(announce=True)
    assert len(tray.got) == n  # the user turned notifications off
