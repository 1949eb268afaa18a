"""The add/edit key dialog from the keyboard alone: where focus starts, Tab, mnemonics, focus after errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from keyhygiene.ui.add_key_dialog import UNKNOWN_DATE, AddKeyDialog, OptionalDateEdit
from keyhygiene.ui.sharing_dialog import ShareDialog, UnshareDialog
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


@pytest.fixture(autouse=True)
def _background_work_done(gui_services: Any, qtbot: Any) -> Iterator[None]:
    """The dialog loads ccxt's exchanges and credential needs on the pool: let that finish before the pool stops."""
    yield
    qtbot.waitUntil(lambda: gui_services.pool.active() == 0, timeout=WAIT_MS)


def _focus(qtbot: Any, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=WAIT_MS)


def _press(qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QWidget:
    """Press ``key`` where the focus is, as a person would; returns the widget that has the focus afterwards."""
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, key, modifier)
    focused = QApplication.focusWidget()
    assert focused is not None
    return focused


def _open_add(qtbot: Any, make_window: Any) -> AddKeyDialog:
    dlg = make_window().open_add_dialog()
    qtbot.waitUntil(lambda: dlg.isActiveWindow() and QApplication.focusWidget() is not None, timeout=WAIT_MS)
    return dlg


def test_the_dialog_opens_on_the_exchange_and_tab_skips_the_scroll_area(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    assert QApplication.focusWidget() is dlg.exchange
    assert all(s.focusPolicy() == Qt.FocusPolicy.NoFocus for s in dlg.findChildren(QScrollArea))
    # Once round the whole form: every input once, nothing that only scrolls, back to the exchange.
    chain = [QApplication.focusWidget()]
    for _ in range(20):
        chain.append(_press(qtbot, Qt.Key.Key_Tab))
        if chain[-1] is dlg.exchange:
            break
    assert chain == [dlg.exchange, dlg.label, dlg.purpose, dlg.api_key.edit, dlg.secret.edit, dlg.sharing.service,
                     dlg.sharing.day, dlg.sharing.add_button, dlg.created, dlg.note, dlg.check_button,
                     dlg.save_button, dlg.cancel_button, dlg.exchange]


def test_the_edit_dialog_opens_on_the_label(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Old name")
    dlg = make_window().open_edit_dialog(kid)
    qtbot.waitUntil(lambda: dlg.isActiveWindow(), timeout=WAIT_MS)
    assert QApplication.focusWidget() is dlg.label  # the exchange of a stored key cannot change


def test_tab_leaves_a_date_that_shows_unknown(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    assert isinstance(dlg.sharing.day, OptionalDateEdit) and isinstance(dlg.created, OptionalDateEdit)
    assert dlg.sharing.day.text() == "unknown" and dlg.created.text() == "unknown"
    _focus(qtbot, dlg.sharing.service)
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.sharing.day
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.sharing.add_button  # was: stuck in the date for ever
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.created
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.note
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.created
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.sharing.add_button
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.sharing.day
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.sharing.service


def test_tab_still_walks_the_sections_of_a_real_date(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    dlg.created.setDate(QDate(2023, 3, 1))
    _focus(qtbot, dlg.note)
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.created
    _focus(qtbot, dlg.sharing.add_button)
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.created
    sections = [dlg.created.currentSectionIndex()]
    for _ in range(2):
        assert _press(qtbot, Qt.Key.Key_Tab) is dlg.created
        sections.append(dlg.created.currentSectionIndex())
    assert sections == [0, 1, 2]  # year, month, day: Qt's own behaviour for a date that is set
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.note
    # Back to "unknown" (the lowest date), it is one stop again.
    dlg.created.setDate(UNKNOWN_DATE)
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.created
    assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is dlg.sharing.add_button


def test_the_sharing_dialogs_dates_let_tab_go(vault, gui_services, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Shared", shared=[("koinly", None)])
    w = make_window()
    for dlg in (ShareDialog(gui_services, kid, w), UnshareDialog(gui_services, kid, "koinly", w)):
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitUntil(dlg.isActiveWindow, timeout=WAIT_MS)
        dlg.day.setDate(UNKNOWN_DATE)
        assert dlg.day.text() == "unknown"
        _focus(qtbot, dlg.day)
        assert _press(qtbot, Qt.Key.Key_Tab) is not dlg.day
        _focus(qtbot, dlg.day)
        assert _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) is not dlg.day
        dlg.close()


def test_alt_w_goes_to_the_sharing_service(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    _focus(qtbot, dlg.note)
    assert _press(qtbot, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier) is dlg.sharing.service
    assert _press(qtbot, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier) is dlg.created  # the others still work


def test_a_failed_save_focuses_the_first_problem(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    dlg.exchange.setCurrentIndex(dlg.exchange.findData("binance", Qt.ItemDataRole.UserRole))
    dlg.save_button.click()  # label, key and secret are all empty
    assert dlg.error_text("label") and dlg.error_text("api_key") and dlg.error_text("secret")
    assert QApplication.focusWidget() is dlg.label  # the first, not the last (the secret)
    dlg.label.setText("Named")
    dlg.save_button.click()
    assert QApplication.focusWidget() is dlg.api_key.edit


def test_extra_credentials_come_right_after_the_secret_in_tab_order(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _open_add(qtbot, make_window)
    qtbot.waitUntil(lambda: dlg.exchange.findData("hyperliquid", Qt.ItemDataRole.UserRole) >= 0, timeout=WAIT_MS)
    dlg.exchange.setCurrentIndex(dlg.exchange.findData("hyperliquid", Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: "hyperliquid" in dlg._required, timeout=WAIT_MS)
    assert list(dlg._extras) == ["privateKey", "walletAddress"]  # ccxt's requiredCredentials
    _focus(qtbot, dlg.secret.edit)
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg._extras["privateKey"].edit
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg._extras["walletAddress"].edit
    assert _press(qtbot, Qt.Key.Key_Tab) is dlg.permission_checks["futures_trade"]  # declared: not one of the 12
