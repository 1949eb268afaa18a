"""Adding and editing a key through the dialog, like a person: typing, checking, saving, fixing errors."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QWidget

from keyhygiene.exchanges import catalog
from keyhygiene.store.keychain import CURRENT
from keyhygiene.ui.add_key_dialog import AddKeyDialog
from keyhygiene.ui.widgets import Chip, FlowLayout
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def _choose(dlg: AddKeyDialog, exchange: str) -> None:
    i = dlg.exchange.findData(exchange, Qt.ItemDataRole.UserRole)
    assert i >= 0, exchange
    dlg.exchange.setCurrentIndex(i)


def _wait_loaded(qtbot, dlg: AddKeyDialog, exchange: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: exchange in dlg._required, timeout=WAIT_MS)


def _filled_binance_dialog(w, qtbot, secret, label: str) -> AddKeyDialog:  # type: ignore[no-untyped-def]
    """The window's add dialog with a Binance key typed in (label, API key, secret), ready to save."""
    dlg = w.open_add_dialog()
    _choose(dlg, "binance")
    _wait_loaded(qtbot, dlg, "binance")
    qtbot.keyClicks(dlg.label, label)
    qtbot.keyClicks(dlg.api_key.edit, secret("AK", 32))
    qtbot.keyClicks(dlg.secret.edit, secret("SK", 48))
    return dlg


def test_add_a_key_through_the_dialog(vault, memory_keyring, make_window, qtbot,
                                      secret) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = w.open_add_dialog()
    assert dlg.isVisible() and dlg.isModal()
    # The 12 supported exchanges come first; the rest of ccxt loads in the background.
    assert [dlg.exchange.itemData(i, Qt.ItemDataRole.UserRole) for i in range(12)] == list(catalog.SUPPORTED)
    qtbot.waitUntil(lambda: dlg.exchange.count() > 30, timeout=WAIT_MS)
    _choose(dlg, "binance")
    _wait_loaded(qtbot, dlg, "binance")
    qtbot.keyClicks(dlg.label, "My Binance bot")
    dlg.purpose.setCurrentIndex(dlg.purpose.findData("bot"))
    api_key, api_secret = secret("AK", 32), secret("SK", 48)
    qtbot.keyClicks(dlg.api_key.edit, api_key)
    qtbot.keyClicks(dlg.secret.edit, api_secret)
    assert dlg.api_key.edit.echoMode() == QLineEdit.EchoMode.Password  # masked until asked
    dlg.api_key.toggle.trigger()
    assert dlg.api_key.shown
    dlg.api_key.toggle.trigger()
    assert not dlg.api_key.shown
    # A sharing from the registry, with the day it was given.
    dlg.sharing.service.setCurrentIndex(dlg.sharing.service.findData("3commas"))
    dlg.sharing.day.setDate(QDate(2022, 5, 1))
    dlg.sharing.add_button.click()
    assert [(s.service, s.day) for s in dlg.sharing.entries()] == [("3commas", date(2022, 5, 1))]
    dlg.created.setDate(QDate(2022, 4, 30))
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS) as saved:
        dlg.save_button.click()
    kid = saved.args[0]
    rec = vault.get_key(kid)
    assert (rec.exchange, rec.label, rec.purpose) == ("binance", "My Binance bot", "bot")
    assert rec.created_at is not None and rec.created_at.date() == date(2022, 4, 30)
    assert [(e.service, e.shared_at) for e in rec.exposures] == [("3commas", date(2022, 5, 1))]
    assert vault.credentials(kid, CURRENT).secret == api_secret
    assert api_secret not in str(vault.repo.all_settings())
    # The dialog closed and wiped its fields; the window lists and selects the new key.
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=WAIT_MS)
    assert w.model.row_of(kid) is not None and w.detail.key_id == kid


def test_validation_errors_land_next_to_their_field(vault, make_window, qtbot,
                                                   secret) -> None:  # type: ignore[no-untyped-def]
    existing = make_key("binance")
    store(vault, existing, "Already here")
    w = make_window()
    dlg = w.open_add_dialog()
    _choose(dlg, "binance")
    dlg.save_button.click()  # everything empty
    assert "name" in dlg.error_text("label")
    assert "API key" in dlg.error_text("api_key")
    assert "secret" in dlg.error_text("secret")
    assert vault.list_keys()[0].label == "Already here" and len(vault.list_keys()) == 1
    # The vault's own check (duplicate key) comes back as ValidationError.field == "api_key".
    qtbot.keyClicks(dlg.label, "Copy")
    qtbot.keyClicks(dlg.api_key.edit, existing.api_key)
    qtbot.keyClicks(dlg.secret.edit, secret("SK", 40))
    dlg.save_button.click()
    qtbot.waitUntil(lambda: "already stored" in dlg.error_text("api_key"), timeout=WAIT_MS)
    assert dlg.error_text("label") == ""
    assert dlg.isVisible() and dlg.save_button.isEnabled()
    assert len(vault.list_keys()) == 1


def test_passphrase_is_asked_for_exchanges_that_need_one(make_window, qtbot,
                                                          secret) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = w.open_add_dialog()
    _choose(dlg, "kucoin")
    _wait_loaded(qtbot, dlg, "kucoin")
    assert dlg._needs_passphrase and not dlg._errors["passphrase"].parentWidget().isHidden()
    qtbot.keyClicks(dlg.label, "KC")
    qtbot.keyClicks(dlg.api_key.edit, secret("AK", 24))
    qtbot.keyClicks(dlg.secret.edit, secret("SK", 24))
    dlg.save_button.click()
    assert "passphrase" in dlg.error_text("passphrase")
    _choose(dlg, "binance")
    _wait_loaded(qtbot, dlg, "binance")
    assert not dlg._needs_passphrase


def test_check_now_inspects_before_saving(vault, gui_services, make_window, simulator,
                                          qtbot) -> None:  # type: ignore[no-untyped-def]
    key = make_key("bybit", permissions={"read", "spot_trade", "withdraw"})
    sim = simulator([key])
    gui_services.endpoints = dict(sim.endpoints)
    w = make_window()
    dlg = w.open_add_dialog()
    _choose(dlg, "bybit")
    _wait_loaded(qtbot, dlg, "bybit")
    qtbot.keyClicks(dlg.label, "Checked first")
    qtbot.keyClicks(dlg.api_key.edit, key.api_key)
    qtbot.keyClicks(dlg.secret.edit, key.secret)
    dlg.check_button.click()
    qtbot.waitUntil(lambda: dlg.check_button.isEnabled() and "accepted" in dlg.check_result.text(), timeout=WAIT_MS)
    assert "finding" in dlg.check_result.text()  # withdraw without IP restriction: findings before saving
    chips = [c.text() for c in dlg.check_chips.findChildren(Chip)]
    assert "Withdraw" in chips and "no IP restriction" in chips
    assert vault.list_keys() == []  # nothing stored by a check
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS) as saved:
        dlg.save_button.click()
    kid = saved.args[0]
    # The check's result is kept (written on a worker): the new row shows permissions without another audit.
    qtbot.waitUntil(lambda: getattr(gui_services.row(kid), "profile", None) is not None, timeout=WAIT_MS)
    assert "withdraw" in gui_services.row(kid).profile.permissions


def test_edit_changes_label_purpose_and_sharing(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Old name", purpose="trading", shared=[("koinly", date(2023, 1, 2))])
    w = make_window()
    dlg = w.open_edit_dialog(kid)
    assert not dlg.exchange.isEnabled() and dlg.check_box.isHidden()
    dlg.label.clear()
    qtbot.keyClicks(dlg.label, "New name")
    dlg.purpose.setCurrentIndex(dlg.purpose.findData("tax"))
    # End the Koinly sharing, add a free-text one.
    entries = dlg.sharing.entries()
    dlg.sharing._remove(entries[0])
    dlg.sharing.service.setEditText("my own script")
    dlg.sharing.add_button.click()
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS):
        dlg.save_button.click()
    rec = vault.get_key(kid)
    assert (rec.label, rec.purpose) == ("New name", "tax")
    assert rec.shared_with == ["my own script"]
    assert [e.service for e in rec.exposures if not e.active] == ["koinly"]
    assert w.model.index(w.model.row_of(kid), 1).data(Qt.ItemDataRole.AccessibleTextRole).startswith("New name")


def test_a_sharing_typed_but_not_added_is_saved_with_the_key(vault, gui_services, make_window, qtbot,
                                                              secret) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = _filled_binance_dialog(w, qtbot, secret, "Bot key")
    # Chosen with its date, but the user goes straight to Save instead of pressing Add.
    dlg.sharing.service.setCurrentIndex(dlg.sharing.service.findData("3commas"))
    dlg.sharing.day.setDate(QDate(2022, 5, 1))
    assert dlg.sharing.entries() == [] and dlg.sharing.has_pending()
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS) as saved:
        dlg.save_button.click()
    kid = saved.args[0]
    assert [(e.service, e.shared_at) for e in vault.get_key(kid).exposures] == [("3commas", date(2022, 5, 1))]
    # And so the finding that matters most for such a key: 3Commas leaked its users' keys in 2022.
    qtbot.waitUntil(lambda: any(f.rule == "shared_with_leaked_service"
                                for f in getattr(gui_services.row(kid), "findings", None) or []), timeout=WAIT_MS)


# Typing opens the service completer's popup, which the offscreen platform cannot give the keyboard to.
@pytest.mark.qt_log_ignore("This plugin does not support (grabbing the keyboard|raise)", extend=True)
def test_enter_in_the_service_box_adds_the_sharing_and_does_not_save(vault, make_window,
                                                                    qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Shared twice")
    dlg = make_window().open_edit_dialog(kid)
    saved: list[str] = []
    dlg.keySaved.connect(saved.append)
    edit = dlg.sharing.service.lineEdit()
    for name in ("first script", "second script"):  # Enter adds one, the user goes on with the next
        edit.setFocus()
        qtbot.keyClicks(edit, name)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert [s.service for s in dlg.sharing.entries()] == ["first script", "second script"]
    assert saved == [] and dlg.isVisible()  # Enter there is "Add", not the dialog's Save


def test_edit_saves_a_sharing_typed_but_not_added(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Edited")
    dlg = make_window().open_edit_dialog(kid)
    dlg.sharing.service.setEditText("my own script")
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS):
        dlg.save_button.click()
    assert vault.get_key(kid).shared_with == ["my own script"]


def test_a_pending_sharing_that_cannot_be_added_stops_the_save(vault, make_window, qtbot,
                                                                secret) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = _filled_binance_dialog(w, qtbot, secret, "Bot key")
    dlg.sharing.service.setEditText("my own bot")
    # The date edit stops at today; a dialog left open past midnight is the way a later date gets in.
    dlg.sharing.day.setMaximumDate(QDate.currentDate().addDays(30))
    dlg.sharing.day.setDate(QDate.currentDate().addDays(2))
    dlg.save_button.click()
    assert "future" in dlg.error_text("shared_with")
    assert dlg.isVisible() and dlg.save_button.isEnabled() and dlg.sharing.entries() == []
    assert dlg.sharing.service.currentText() == "my own bot"  # kept, to be corrected
    assert dlg.focusWidget() is dlg.sharing.service
    qtbot.wait(200)
    assert vault.list_keys() == []
    # Add says the same; a corrected date goes in, and the message goes away.
    dlg.sharing.add_button.click()
    assert "future" in dlg.error_text("shared_with") and dlg.sharing.entries() == []
    dlg.sharing.day.setDate(QDate(2024, 1, 2))
    dlg.sharing.add_button.click()
    assert [(s.service, s.day) for s in dlg.sharing.entries()] == [("my own bot", date(2024, 1, 2))]
    assert dlg.error_text("shared_with") == ""


def test_escape_and_cancel_do_nothing_while_saving(vault, make_window, qtbot, monkeypatch,
                                                   secret) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = _filled_binance_dialog(w, qtbot, secret, "Saved slowly")
    # Hold the vault write on its worker, as a slow keychain prompt would, until the test lets it go.
    gate = threading.Event()
    real_add_key = vault.add_key

    def slow_add_key(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(WAIT_MS / 1000)
        return real_add_key(*args, **kwargs)

    monkeypatch.setattr(vault, "add_key", slow_add_key)
    try:
        dlg.save_button.click()
        assert dlg.save_button.text() == "Saving\u2026"
        qtbot.keyClick(dlg, Qt.Key.Key_Escape)
        dlg.buttons.rejected.emit()  # what Cancel does (it is disabled meanwhile)
        dlg.close()  # the title bar's close button
        qtbot.wait(100)
        assert dlg.isVisible() and not dlg.cancel_button.isEnabled()
    finally:
        gate.set()
    with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS) as saved:
        pass
    kid = saved.args[0]
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=WAIT_MS)
    assert w.model.row_of(kid) is not None  # listed: the save finished with its dialog there


def test_declared_permissions_are_all_shown(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = make_window().open_add_dialog()
    qtbot.waitUntil(lambda: dlg.exchange.findData("woo", Qt.ItemDataRole.UserRole) >= 0, timeout=WAIT_MS)
    _choose(dlg, "woo")  # not one of the 12: the user ticks what the key may do
    qtbot.waitUntil(lambda: dlg.permissions_box.isVisible(), timeout=WAIT_MS)
    lab, row = dlg._row_declared_permissions
    note = next(c for c in row.findChildren(QLabel) if c.text().startswith("This exchange does not describe"))
    for width in (640, 1000, 560):
        dlg.resize(width, 600)
        qtbot.wait(50)
        box = dlg.permissions_box.rect()
        for name, cb in dlg.permission_checks.items():
            assert box.contains(cb.geometry()), (width, name, cb.geometry(), box)
        # The note under the check boxes is not covered by them, and is all there.
        assert note.isVisible() and note.y() >= dlg.permissions_box.geometry().bottom()
        assert note.height() >= note.heightForWidth(note.width())


def test_mexc_keys_get_declared_permissions(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 2: MEXC reports account flags, not the key's permissions: the user declares them."""
    dlg = make_window().open_add_dialog()
    _choose(dlg, "binance")
    assert dlg.declared_permissions() is None and not dlg.permissions_box.isVisibleTo(dlg)
    _choose(dlg, "mexc")
    qtbot.waitUntil(lambda: dlg.permissions_box.isVisibleTo(dlg), timeout=WAIT_MS)
    dlg.permission_checks["withdraw"].setChecked(True)
    assert dlg.declared_permissions() == ["read", "withdraw"]


def test_flow_layout_in_a_form_gets_the_height_it_needs(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    form = QFormLayout(host)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    field = QWidget()
    flow = FlowLayout(field)
    boxes = [QCheckBox(f"Permission {i}") for i in range(9)]
    for cb in boxes:
        flow.addWidget(cb)
    hidden = QCheckBox("Hidden")
    flow.addWidget(hidden)
    hidden.hide()
    form.addRow("Permissions", field)
    form.addRow("Next", QLineEdit())
    host.show()
    widest = max(cb.sizeHint().width() for cb in boxes)
    assert flow.minimumSize().width() == widest  # one per line at the narrowest
    assert flow.sizeHint().width() >= sum(cb.sizeHint().width() for cb in boxes)  # all on one line if it can
    for width in (900, 500, 300, 200):
        host.resize(width, host.heightForWidth(width))
        qtbot.wait(20)
        for cb in boxes:
            assert field.rect().contains(cb.geometry()), (width, cb.text(), cb.geometry(), field.geometry())
