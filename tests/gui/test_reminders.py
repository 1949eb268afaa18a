"""Reminders: which keys are due, expiring or touched by an incident; announced once; shown in the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from keyhygiene.core.models import KeyProfile, KeyRecord, Status
from keyhygiene.ui.key_row import KeyRow
from keyhygiene.ui.reminders import IncidentRef, ReminderCenter, collect
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _row(label: str, created_days: int | None = None, expires_days: float | None = None,
         trade_days: float | None = None) -> KeyRow:
    rec = KeyRecord(id=f"k{label}", exchange="binance", label=label, purpose="bot", fingerprint="ab\u2026cd",
                    key_sha256="x", created_at=NOW - timedelta(days=created_days) if created_days else None,
                    added_at=NOW, updated_at=NOW)
    prof = KeyProfile(exchange="binance", key="ab\u2026cd", status=Status.OK,
                      expires_at=NOW + timedelta(days=expires_days) if expires_days is not None else None,
                      trade_expires_at=NOW + timedelta(days=trade_days) if trade_days is not None else None)
    return KeyRow(record=rec, profile=prof)


def test_collect_age_expiry_and_incidents() -> None:
    rows = [_row("fresh", 10), _row("old", 100), _row("ancient", 400), _row("expiring", 5, expires_days=3.5),
            _row("trade", 5, trade_days=1), _row("expired", 5, expires_days=-2), _row("later", 5, expires_days=40)]
    inc = IncidentRef("3commas", "3Commas", date(2022, 12, 28), "API-key leak")
    found = collect(rows, now=NOW, max_age_days=90, expiry_warning_days=14,
                    incidents=lambda r: [inc] if r.record.label == "old" else [])
    kinds = {(r.label, r.kind) for r in found}
    assert kinds == {("old", "age"), ("ancient", "age"), ("expiring", "expiry"), ("trade", "expiry"),
                     ("expired", "expired"), ("old", "incident")}
    assert found[0].kind == "incident" and found[0].severity == "critical"  # worst first
    by = {(r.label, r.kind): r for r in found}
    assert by[("ancient", "age")].severity == "high" and by[("old", "age")].severity == "medium"
    assert "trading permission" in by[("trade", "expiry")].text
    assert "4 days" in by[("expiring", "expiry")].text
    assert "3Commas: API-key leak on 2022-12-28" in by[("old", "incident")].text


def test_center_announces_only_new_reminders(qapp) -> None:  # type: ignore[no-untyped-def]
    current = [_row("old", 100)]
    center = ReminderCenter(lambda: collect(current, now=NOW, max_age_days=90, expiry_warning_days=14))
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
    w.services.refresh_row(kid)
    w.reminders.refresh(announce=True)
    assert tray.got and any(r.kind == "age" for r in tray.got[-1])
    w.services.prefs.notify_desktop = False
    vault.update_key(kid, created_at=datetime.now(UTC) - timedelta(days=900))
    w.services.refresh_row(kid)
    n = len(tray.got)
    w.reminders.refresh(announce=True)
    assert len(tray.got) == n  # the user turned notifications off
