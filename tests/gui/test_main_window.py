"""The main window over a real vault: the list, filtering, sorting, the detail pane, manners (shortcuts, names)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QToolButton

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.ui.key_table_model import CHIPS_ROLE, ROW_ROLE, SUBTITLE_ROLE, Col
from keyhygiene.ui.main_window import KEYS_PAGE, WELCOME_PAGE
from tests.helpers.gui import store
from tests.helpers.simkeys import make_key


def _profile(exchange: str, perms: list[str], ip: bool | None) -> KeyProfile:
    return KeyProfile(exchange=exchange, key="x", status=Status.OK, permissions=perms, ip_restricted=ip,
                      created_at=datetime(2024, 1, 2, tzinfo=UTC))


def _visible_labels(w) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.proxy.index(r, Col.LABEL).data(ROW_ROLE).record.label for r in range(w.proxy.rowCount())]


def test_empty_vault_shows_the_welcome_page(make_window) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    assert w.stack.currentIndex() == WELCOME_PAGE
    assert not w.act_audit.isEnabled()


def test_rows_show_local_metadata_and_latest_inspection(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    a = store(vault, make_key("binance"), "Bot key", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    store(vault, make_key("kraken"), "Tax export", purpose="tax")
    vault.repo.record_inspection(a, _profile("binance", ["read", "spot_trade", "withdraw"], False))
    w = make_window()
    assert w.stack.currentIndex() == KEYS_PAGE
    assert w.model.rowCount() == 2
    row = w.model.row_of(a)
    assert row is not None
    idx = w.model.index(row, Col.LABEL)
    assert idx.data(Qt.ItemDataRole.AccessibleTextRole).startswith("Bot key, Binance")
    assert idx.data(SUBTITLE_ROLE) == f"Binance \u00b7 {vault.get_key(a).fingerprint}"
    assert w.model.index(row, Col.PERMISSIONS).data(Qt.ItemDataRole.AccessibleTextRole) == "Read, Spot, Withdraw"
    assert w.model.index(row, Col.IP).data(Qt.ItemDataRole.DisplayRole) == "None"
    assert w.model.index(row, Col.SHARED).data(Qt.ItemDataRole.AccessibleTextRole) == "3Commas"
    # A key given to 3Commas before its leak, able to withdraw from anywhere: the worst risk there is.
    assert w.model.index(row, Col.RISK).data(Qt.ItemDataRole.AccessibleTextRole).startswith("Critical risk")
    # Default order: worst first.
    assert _visible_labels(w)[0] == "Bot key"
    assert w.score_ring.score is not None and w.score_ring.score < 50
    assert "1 of 2 keys need attention" in w.headline.text()


def test_filter_by_text_and_scope(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    a = store(vault, make_key("binance"), "Binance bot", shared=[("3commas", date(2022, 3, 1))])
    store(vault, make_key("okx"), "OKX savings")
    b = store(vault, make_key("kraken"), "Kraken tax")
    vault.repo.record_inspection(b, _profile("kraken", ["read", "withdraw"], True))
    w = make_window()
    qtbot.keyClicks(w.filter_edit, "okx")
    assert _visible_labels(w) == ["OKX savings"]
    w.filter_edit.clear()
    qtbot.keyClicks(w.filter_edit, "3commas")  # services match too
    assert _visible_labels(w) == ["Binance bot"]
    w.filter_edit.clear()
    assert len(_visible_labels(w)) == 3
    w.scope_combo.setCurrentIndex(w.scope_combo.findData("withdraw"))
    assert _visible_labels(w) == ["Kraken tax"]
    w.scope_combo.setCurrentIndex(w.scope_combo.findData("shared"))
    assert _visible_labels(w) == ["Binance bot"]
    w.scope_combo.setCurrentIndex(w.scope_combo.findData("failing"))  # never checked counts as failing
    assert sorted(_visible_labels(w)) == ["Binance bot", "OKX savings"]
    assert a


def test_sorting_by_label_and_age(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    store(vault, make_key("binance"), "b middle")
    store(vault, make_key("binance"), "a first")
    store(vault, make_key("binance"), "c last")
    w = make_window()
    w.table.sortByColumn(Col.LABEL, Qt.SortOrder.AscendingOrder)
    assert _visible_labels(w) == ["a first", "b middle", "c last"]
    w.table.sortByColumn(Col.LABEL, Qt.SortOrder.DescendingOrder)
    assert _visible_labels(w) == ["c last", "b middle", "a first"]


def test_selecting_a_key_opens_the_detail_pane(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("binance"), "Bot key", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    w = make_window()
    assert w.detail.key_id is None
    assert not w.act_edit.isEnabled()
    assert w.select_key(kid)
    assert w.detail.key_id == kid
    assert w.detail.title_label.text() == "Bot key"
    assert w.act_edit.isEnabled() and w.act_remove.isEnabled()
    titles = [c.finding.title for c in w.detail.cards]
    assert any("3Commas" in t for t in titles)
    assert w.detail.blast_label.text()
    # The exposure list offers to end the sharing.
    assert [b.accessibleName() for b in w.detail.unshare_buttons] == ["End sharing with 3Commas"]


def test_mexc_account_facts_are_shown_apart_from_permissions(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 2: MEXC's account flags are shown as account facts; the permissions row says "declared"."""
    from PySide6.QtWidgets import QLabel

    kid = store(vault, make_key("mexc"), "MEXC bot", purpose="bot")
    profile = _profile("mexc", ["read", "spot_trade"], None)
    profile.permissions_source = "declared"
    profile.account_facts = {"canTrade": True, "canWithdraw": True, "canDeposit": True}
    vault.repo.record_inspection(kid, profile)
    w = make_window()
    assert w.select_key(kid)
    texts = [lab.text() for lab in w.detail.findChildren(QLabel)]
    assert any("canWithdraw: yes" in t and "not of this key" in t for t in texts), texts
    assert "declared by you" in texts
    assert "Withdraw" not in texts  # no withdraw chip from the account flag


def test_permissions_the_exchange_does_not_say_are_not_shown_as_none(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    kid = store(vault, make_key("mexc"), "MEXC undeclared", purpose="bot")
    profile = _profile("mexc", ["read"], None)
    profile.permissions_source = "unknown"
    vault.repo.record_inspection(kid, profile)
    w = make_window()
    assert w.select_key(kid)
    texts = [lab.text() for lab in w.detail.findChildren(QLabel)]
    assert "anything more: the exchange does not say" in texts and "none" not in texts
    row = w.model.row_of(kid)
    assert row is not None
    chips = w.model.index(row, Col.PERMISSIONS).data(CHIPS_ROLE)
    assert [t for t, _tone in chips] == ["Read", "rest not said"]


def test_every_action_has_a_shortcut_tooltip_and_name(make_window) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    for a in w.all_actions():
        assert not a.shortcut().isEmpty(), a.objectName()
        assert a.toolTip() and a.shortcut().toString() in a.toolTip(), a.objectName()
    shortcuts = [a.shortcut().toString() for a in w.all_actions()]
    assert len(shortcuts) == len(set(shortcuts)), "two actions share a shortcut"
    for b in w.findChildren(QAbstractButton):
        if b.isVisibleTo(w):
            name = b.accessibleName() or b.text().replace("&", "")
            if isinstance(b, QToolButton) and b.defaultAction() is not None:
                name = name or b.defaultAction().text()
            assert name, f"unnamed button {b!r}"


def test_window_geometry_is_remembered_under_the_data_dir(vault, data_dir, make_window,
                                                           qtbot) -> None:  # type: ignore[no-untyped-def]
    store(vault, make_key("binance"), "k")
    w = make_window()
    w.table.setColumnWidth(Col.PERMISSIONS, 333)  # (the offscreen screen is too small to test window sizes)
    w.close()
    ini = data_dir / "ui.ini"
    assert ini.is_file()
    w2 = make_window()
    assert w2.table.columnWidth(Col.PERMISSIONS) == 333
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    assert set(settings.allKeys()) <= {"window/geometry", "window/state", "window/splitter", "window/header"}


def test_tab_leaves_the_key_table_for_the_detail_pane(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    store(vault, make_key("binance"), "Bot key")
    store(vault, make_key("kraken"), "Tax export")
    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)  # focus moves only in the active window
    w.table.setFocus()
    w.table.selectRow(0)
    qtbot.keyClick(w.table, Qt.Key.Key_Down)  # arrow keys still walk the rows
    assert w.table.currentIndex().row() == 1 and QApplication.focusWidget() is w.table
    qtbot.keyClick(w.table, Qt.Key.Key_Tab)
    # Tab used to walk the cells (column 0, 1, 2...), so nothing after the table was reachable going forward.
    first = QApplication.focusWidget()
    assert first is not w.table and w.detail_host.isAncestorOf(first)
    buttons: list[str] = []
    for _ in range(20):  # on through the pane to its buttons
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        fw = QApplication.focusWidget()
        if isinstance(fw, QAbstractButton) and w.detail.isAncestorOf(fw):
            buttons.append(fw.text())
        if fw is w.table:
            break
    assert "Rotate\u2026" in buttons, buttons


def test_the_summary_counts_one_key_in_the_singular(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    store(vault, make_key("binance"), "Only key", purpose="bot")
    w = make_window()
    assert w.subline.text().startswith("1 key on 1 exchange \u00b7 ")  # never "1 keys"


def test_a_window_closed_before_its_start_up_work_ran_starts_none_of_it(  # type: ignore[no-untyped-def]
        vault, gui_services, make_window, qtbot) -> None:
    """Closed right after it is shown (the services stopped next, as when the app quits): the work queued behind
    the first frame (its timer, the 1 s fallback) must not run. It did, and raised "the task pool is shut down"
    in the event loop (seen as a teardown error of a chart test on a loaded CI machine)."""
    from keyhygiene.ui.main_window import FIRST_PAINT_FALLBACK_MS
    from tests.helpers.gui import stop_services

    store(vault, make_key("binance"), "Main")
    w = make_window(show=False)
    w.show()
    w.close()
    stop_services(gui_services)
    qtbot.wait(FIRST_PAINT_FALLBACK_MS + 300)  # pytest-qt fails the test on an exception in the event loop
    assert w.tray is None
