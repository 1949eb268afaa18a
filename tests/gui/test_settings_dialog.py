"""Changing settings: policy thresholds re-judge every key; preferences reach the clipboard and timers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.policy import Policy
from keyhygiene.ui.services import PREFS_SETTING
from keyhygiene.ui.settings_dialog import SettingsDialog
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def _open(w) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dlg = w.open_settings()
    assert isinstance(dlg, SettingsDialog) and dlg.isVisible()
    return dlg


def test_raising_the_max_age_clears_the_age_finding(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("binance"), "Old key")
    created = datetime.now(UTC) - timedelta(days=200)
    vault.repo.record_inspection(kid, KeyProfile(exchange="binance", key="x", status=Status.OK,
                                                 permissions=["read"], ip_restricted=True, created_at=created))
    w = make_window()
    assert any(f.rule == "too_old" and f.severity != "info" for f in w.services.row(kid).findings)
    dlg = _open(w)
    dlg.policy_fields["max_age_days"].setValue(365)
    with qtbot.waitSignal(w.services.policyChanged, timeout=WAIT_MS):  # keys are judged again on a worker
        dlg.save_button.click()
        assert not dlg.isVisible()  # (checked before the wait: a closed dialog is deleted by then)
    assert Policy.load(vault.repo).max_age_days == 365
    assert not any(f.rule == "too_old" and f.severity != "info" for f in w.services.row(kid).findings)
    assert w.model.max_age_days == 365
    assert "365" in w.age_chart.title


def test_disabling_a_rule(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    kid = store(vault, make_key("binance"), "Shared", shared=[("koinly", date(2024, 1, 1))])
    w = make_window()
    assert any(f.rule == "shared_with_third_party" for f in w.services.row(kid).findings)
    dlg = _open(w)
    dlg.rule_checks["shared_with_third_party"].setChecked(False)
    with qtbot.waitSignal(w.services.policyChanged, timeout=WAIT_MS):
        dlg.save_button.click()
    assert "shared_with_third_party" in Policy.load(vault.repo).disabled_rules
    assert not any(f.rule == "shared_with_third_party" for f in w.services.row(kid).findings)


def _written(vault, name: str, value: object) -> None:  # type: ignore[no-untyped-def]
    """Wait for a preference written on a worker (no SQLite on the GUI thread) without running the event loop,
    which would deliver what the test checks next (the dialog's deletion, palette events) before it looks."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (vault.repo.get_setting(PREFS_SETTING) or {}).get(name) != value and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (vault.repo.get_setting(PREFS_SETTING) or {}).get(name) == value


def test_preferences_are_saved_and_applied(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = _open(w)
    dlg.clipboard_seconds.setValue(7)
    dlg.reminder_hours.setValue(3)
    dlg.reaudit_hours.setValue(0)
    dlg.audit_on_start.setChecked(False)
    dlg.save_button.click()
    _written(vault, "clipboard_clear_seconds", 7)
    stored = vault.repo.get_setting(PREFS_SETTING)
    assert stored["clipboard_clear_seconds"] == 7 and stored["reminder_hours"] == 3
    assert stored["audit_on_start"] is False
    assert w.clipboard.clear_seconds == 7
    assert w.reminders.interval_ms() == 3 * 3600 * 1000
    assert not w._reaudit.isActive()
    assert dlg.reaudit_hours.text() == "only when asked"


def test_cancel_changes_nothing(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = _open(w)
    dlg.policy_fields["max_age_days"].setValue(30)
    dlg.reject()
    assert Policy.load(vault.repo).max_age_days == 90
    assert vault.repo.get_setting(PREFS_SETTING) is None


def test_appearance_dark_and_back(vault, make_window, qapp) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.ui import theme

    w = make_window()
    light_text = w.palette().color(w.palette().ColorRole.WindowText)
    try:
        dlg = _open(w)
        dlg.appearance.setCurrentIndex(dlg.appearance.findData("dark"))
        dlg.save_button.click()
        assert theme.is_dark(qapp.palette())
        _written(vault, "appearance", "dark")
        # Meaningful colours switch to their dark-palette variants.
        assert theme.severity_color("critical") == theme.severity_color("critical", dark=True)
    finally:
        dlg = _open(w)
        dlg.appearance.setCurrentIndex(dlg.appearance.findData("system"))
        dlg.save_button.click()
    assert not theme.is_dark(qapp.palette())
    assert w.palette().color(w.palette().ColorRole.WindowText) == light_text


def test_the_longest_re_audit_interval_is_kept_and_counted_in_hours(vault, make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    store(vault, make_key("binance"), "A key")
    w = make_window()
    dlg = _open(w)
    dlg.reaudit_hours.setValue(dlg.reaudit_hours.maximum())  # 30 days: more ms than a QTimer can hold
    dlg.save_button.click()  # used to raise OverflowError here, and at every later start
    assert w._reaudit.isActive() and w._reaudit.interval() == 3600 * 1000
    started: list[bool] = []
    monkeypatch.setattr(w, "start_audit", lambda: started.append(True) or True)
    for _ in range(dlg.reaudit_hours.maximum() - 1):
        w._on_reaudit_timeout()
    assert started == []
    w._on_reaudit_timeout()
    assert started == [True]
    for _ in range(dlg.reaudit_hours.maximum()):
        w._on_reaudit_timeout()
    assert started == [True, True]  # and again a whole interval later


def _activate(qtbot, dlg) -> None:  # type: ignore[no-untyped-def]
    """Focus events (and so the spin box's own correction on leaving it) need the dialog to be the active window;
    qtbot.waitActive can return while the main window's activation is still pending."""
    from PySide6.QtWidgets import QApplication

    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=WAIT_MS)


def _type_into(qtbot, spin, text: str) -> None:  # type: ignore[no-untyped-def]
    """As a person would: focus the field, select its number, type over it."""
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def test_an_out_of_range_number_and_enter_is_refused_with_the_range(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    w = make_window()
    dlg = _open(w)
    _activate(qtbot, dlg)
    age = dlg.policy_fields["max_age_days"]
    _type_into(qtbot, age, "3")  # the least is 7
    qtbot.keyClick(age, Qt.Key.Key_Return)
    # Used to put 90 back into the field, save it and close, without a word.
    assert dlg.isVisible() and dlg.banner.isVisible()
    text = dlg.banner.accessibleDescription()
    assert "Maximum key age" in text and "from 7 to 3650 days" in text and "not 3" in text
    assert QApplication.focusWidget() is age
    assert vault.repo.get_setting(PREFS_SETTING) is None  # nothing was written
    _type_into(qtbot, age, "30")
    with qtbot.waitSignal(w.services.policyChanged, timeout=WAIT_MS):
        qtbot.keyClick(age, Qt.Key.Key_Return)
    assert Policy.load(vault.repo).max_age_days == 30


def test_an_out_of_range_number_left_behind_is_reported_on_save(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    w = make_window()
    dlg = _open(w)
    _activate(qtbot, dlg)
    privacy = next(i for i in range(dlg.tabs.count()) if dlg.tabs.tabText(i) == "Privacy")
    dlg.tabs.setCurrentIndex(privacy)
    reveal = dlg.reveal_seconds
    _type_into(qtbot, reveal, "1")  # the least is 3
    # Clicking Save takes the focus from the field, which used to put 30 back and save it.
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and QApplication.focusWidget() is reveal
    text = dlg.banner.accessibleDescription()
    assert "Hide revealed keys after" in text and "from 3 to 600 seconds" in text and "not 1" in text
    # Showing another tab hides the field: the same quiet undo, and Save finds the field and its tab again.
    dlg.tabs.setCurrentIndex(0)
    dlg.save_button.click()
    assert dlg.isVisible() and dlg.tabs.currentIndex() == privacy and QApplication.focusWidget() is reveal
    assert vault.repo.get_setting(PREFS_SETTING) is None and w.services.prefs.reveal_seconds == 30
    _type_into(qtbot, reveal, "5")
    dlg.save_button.click()
    assert not dlg.isVisible() and w.services.prefs.reveal_seconds == 5
