"""Issue 20 items 4 and 7: the whole window and its dialogs by keyboard, and nothing cut off.

F6 / Shift+F6 walk the regions (toolbar, filter, list, details), every toolbar action is reachable, the focus ring
is visible in both themes, each dialog's Tab order follows its layout, a filter that matches nothing says so, and
no label's text is clipped without a tooltip, at the default font and at 1.5x.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

from keyhygiene.ui import focus_ring, theme
from keyhygiene.ui.add_key_dialog import AddKeyDialog
from keyhygiene.ui.export_dialog import ExportDialog
from keyhygiene.ui.main_window import apply_appearance
from keyhygiene.ui.scan_dialog import ScanDialog
from keyhygiene.ui.settings_dialog import SettingsDialog
from keyhygiene.ui.sharing_dialog import ShareDialog
from keyhygiene.ui.widgets import available_size
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.layout_checks import clipped, out_of_reading_order, tab_chain
from tests.helpers.simkeys import make_key

LONG_LABEL = "freqtrade config (/home/trader/bots/freqtrade-strategies/user_data/config.json)"


@pytest.fixture(autouse=True)
def _background_work_done(gui_services: Any, qtbot: Any) -> Iterator[None]:
    yield
    qtbot.waitUntil(lambda: gui_services.pool.active() == 0, timeout=WAIT_MS)


def _active(qtbot: Any, w: QWidget) -> None:
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=WAIT_MS)


def _press(qtbot: Any, key: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QWidget:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, key, mod)
    focused = QApplication.focusWidget()
    assert focused is not None
    return focused


def _window_with_keys(vault: Any, make_window: Any, qtbot: Any) -> Any:
    store(vault, make_key("binance"), "Bot key", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    store(vault, make_key("kraken"), LONG_LABEL, purpose="tax")
    w = make_window()
    _active(qtbot, w)
    w.table.selectRow(0)
    return w


def test_f6_walks_the_regions_both_ways(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = _window_with_keys(vault, make_window, qtbot)
    w.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.table, timeout=WAIT_MS)
    detail = _press(qtbot, Qt.Key.Key_F6)
    assert w.detail.isAncestorOf(detail)
    toolbar = _press(qtbot, Qt.Key.Key_F6)
    assert toolbar is w.toolbar.widgetForAction(w.act_add)  # the first enabled toolbar button
    assert _press(qtbot, Qt.Key.Key_F6) is w.filter_edit
    assert _press(qtbot, Qt.Key.Key_F6) is w.table
    # and back
    assert _press(qtbot, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier) is w.filter_edit
    assert _press(qtbot, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier) is toolbar
    assert w.detail.isAncestorOf(_press(qtbot, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier))
    # Ctrl+Tab does the same, as in other Qt applications
    w.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.table, timeout=WAIT_MS)
    assert w.detail.isAncestorOf(_press(qtbot, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier))


def test_every_toolbar_action_is_reachable_by_tab(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = _window_with_keys(vault, make_window, qtbot)
    first = w.regions.move(1) if w.regions.current() != 0 else QApplication.focusWidget()
    while w.regions.current() != 0:
        first = w.regions.move(1)
    seen: list[QWidget] = [first]
    for _ in range(30):
        nxt = _press(qtbot, Qt.Key.Key_Tab)
        if not w.toolbar.isAncestorOf(nxt):
            break
        seen.append(nxt)
    reached = {b.defaultAction() for b in seen if isinstance(b, QToolButton)}
    for a in w.toolbar.actions():
        if isinstance(w.toolbar.widgetForAction(a), QToolButton) and a.isEnabled() and a.isVisible():
            assert a in reached, a.text()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_focus_ring_is_visible_in_both_themes(vault, make_window, gui_services, qtbot,  # type: ignore[no-untyped-def]
                                                  mode) -> None:
    gui_services.prefs.appearance = mode  # the window applies it
    try:
        w = _window_with_keys(vault, make_window, qtbot)
        w.table.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is w.table, timeout=WAIT_MS)
        _press(qtbot, Qt.Key.Key_F6)
        button = _press(qtbot, Qt.Key.Key_F6)
        ring = w.findChild(focus_ring.FocusRing)
        assert ring is not None and ring.isVisible() and ring.target is button
        top_left = button.mapTo(w, button.rect().topLeft())
        assert ring.geometry().contains(top_left) and ring.geometry().width() > button.width()
        dark = theme.is_dark(w.palette())
        assert dark == (mode == "dark")
        window_bg = w.palette().color(QPalette.ColorRole.Window)
        assert theme.contrast(theme.focus_color(dark), window_bg) >= 3.0
        # The ring really is painted: grab the window and find the ring's colour on the button's edge.
        img = w.grab().toImage()
        want = theme.focus_color(dark)
        ys = range(top_left.y() + 4, top_left.y() + button.height() - 4)
        edge = [img.pixelColor(top_left.x() - 1, y) for y in ys]
        assert any(_close(c, want) for c in edge), (mode, [c.name() for c in edge[:5]])
    finally:
        apply_appearance("system")


def _close(a: QColor, b: QColor, tol: int = 40) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tol


def test_a_click_moves_no_ring_to_what_was_clicked(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = _window_with_keys(vault, make_window, qtbot)
    w.table.setFocus()
    _press(qtbot, Qt.Key.Key_F6)
    ring = w.findChild(focus_ring.FocusRing)
    assert ring is not None and ring.isVisible()
    cell = w.table.visualRect(w.proxy.index(1, 1)).center()
    qtbot.mouseClick(w.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert QApplication.focusWidget() is w.table
    assert not ring.isVisible() or ring.target is not w.table


def test_a_filter_that_matches_nothing_says_so(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = _window_with_keys(vault, make_window, qtbot)
    qtbot.keyClicks(w.filter_edit, "nothing-like-this")
    assert w.proxy.rowCount() == 0
    notice = w.empty_notice
    assert notice is not None and notice.isVisible()
    assert notice.text().startswith("No key matches \u201cnothing-like-this\u201d.")
    assert "see all 2 keys" in notice.text()
    assert w.table.viewport().rect().contains(notice.geometry())
    assert not clipped(notice.parentWidget())
    w.filter_edit.setFocus()
    qtbot.keyClick(w.filter_edit, Qt.Key.Key_Escape)
    assert w.filter_edit.text() == "" and w.proxy.rowCount() == 2 and not notice.isVisible()
    w.scope_combo.setCurrentIndex(w.scope_combo.findData("withdraw"))
    assert notice.isVisible() and notice.text().startswith("No key in \u201cWithdraw enabled\u201d.")


def _dialogs(w: Any, key_id: str) -> list[tuple[str, QWidget]]:
    s = w.services
    # Top-level (no parent): qtbot owns and deletes each one, once.
    return [("add", AddKeyDialog(s)), ("edit", AddKeyDialog(s, key_id=key_id)),
            ("settings", SettingsDialog(s)), ("share", ShareDialog(s, key_id)),
            ("export", ExportDialog(s)), ("scan", ScanDialog(s, []))]


def _check_dialogs(w: Any, qtbot: Any, key_id: str, scale: float = 1.0) -> None:
    for name, dlg in _dialogs(w, key_id):
        qtbot.addWidget(dlg)
        if scale != 1.0:
            # The dialog's own font, which its children inherit (changing the application's font under
            # the offscreen platform crashed Qt while other tests' windows were being torn down).
            f = dlg.font()
            f.setPointSizeF(f.pointSizeF() * scale)
            dlg.setFont(f)
            dlg.resize(dlg.sizeHint().expandedTo(dlg.size()).boundedTo(available_size(dlg)))
        _active(qtbot, dlg)
        qtbot.wait(50)
        pages = [dlg.tabs.widget(i) for i in range(dlg.tabs.count())] if isinstance(dlg, SettingsDialog) else [None]
        for i, _page in enumerate(pages):
            if isinstance(dlg, SettingsDialog):
                dlg.tabs.setCurrentIndex(i)
                qtbot.wait(20)
            assert not clipped(dlg), (name, i, clipped(dlg))
            chain = tab_chain(dlg)
            assert chain, name
            assert not out_of_reading_order(dlg, chain), (name, i, out_of_reading_order(dlg, chain))
        dlg.close()


def test_dialogs_follow_their_layout_and_clip_nothing(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("kraken"), LONG_LABEL, purpose="tax")
    w = make_window()
    _check_dialogs(w, qtbot, kid)


def test_dialogs_at_one_and_a_half_times_the_font(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("kraken"), LONG_LABEL, purpose="tax")
    w = make_window()
    _check_dialogs(w, qtbot, kid, scale=1.5)


def test_the_edit_dialog_has_no_stray_secret_field(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.ui.widgets import SecretField

    kid = store(vault, make_key("kraken"), LONG_LABEL, purpose="tax")
    w = make_window()
    dlg = AddKeyDialog(w.services, w, key_id=kid)
    qtbot.addWidget(dlg)
    _active(qtbot, dlg)
    assert [f for f in dlg.findChildren(SecretField) if f.isVisibleTo(dlg)] == []


def test_the_add_dialogs_unknown_exchange_error_is_readable_and_goes_once_fixed(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    dlg = w.open_add_dialog()
    qtbot.waitUntil(lambda: dlg.exchange.count() > 30, timeout=WAIT_MS)
    dlg.exchange.setEditText("binanse")
    dlg.exchange.lineEdit().editingFinished.emit()
    err = dlg._errors["exchange"]
    assert err.isVisible() and "\u201cbinanse\u201d is not an exchange KeyHygiene knows" in err.text()
    qtbot.wait(50)
    assert err.height() >= err.heightForWidth(err.width()) and err.width() > dlg.exchange.width()
    assert not dlg._row_declared_permissions[1].isVisible()  # a typo is not an exchange that needs declaring
    dlg.exchange.setCurrentIndex(dlg.exchange.findData("binance", Qt.ItemDataRole.UserRole))
    assert not err.isVisible() and dlg.error_text("exchange") == ""
    assert not dlg._row_declared_permissions[1].isVisible()  # Binance describes its keys
    dlg.exchange.setCurrentIndex(dlg.exchange.findData("woo", Qt.ItemDataRole.UserRole))
    assert dlg._row_declared_permissions[1].isVisible()


def test_the_exchange_picker_lists_the_twelve_then_the_others_by_name(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.exchanges import catalog

    w = make_window()
    dlg = w.open_add_dialog()
    qtbot.waitUntil(lambda: dlg.exchange.count() > 30, timeout=WAIT_MS)
    ids = [dlg.exchange.itemData(i, Qt.ItemDataRole.UserRole) for i in range(dlg.exchange.count())]
    texts = [dlg.exchange.itemText(i) for i in range(dlg.exchange.count())]
    assert ids[:12] == list(catalog.SUPPORTED) and ids[12] is None  # then a separator
    rest = list(zip(ids[13:], texts[13:], strict=True))
    assert [t.casefold() for _i, t in rest] == sorted(t.casefold() for _i, t in rest)
    names = dict(rest)
    assert names["binancecoinm"] == "Binance COIN-M" and names["krakenfutures"] == "Kraken Futures"
    assert "binancecoinm" not in texts
    dlg.exchange.setEditText("Binance COIN-M")
    assert dlg.current_exchange() == "binancecoinm"


def test_a_long_label_in_the_detail_pane_wraps_and_keeps_the_buttons_in_view(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("kraken"), LONG_LABEL + " " + "x" * 80, purpose="tax")
    w = make_window()
    w.resize(960, 600)
    w.table.selectRow(0)  # the only key
    qtbot.wait(50)
    pane = w.detail
    assert pane.key_id == kid
    viewport = pane.viewport().rect()
    for b in (pane.rotate_button, pane.edit_button, pane.recheck_button, pane.remove_button):
        r = b.geometry().translated(b.parentWidget().mapTo(pane.viewport(), b.parentWidget().rect().topLeft()))
        assert viewport.left() <= r.left() and r.right() <= viewport.right(), b.text()
    assert pane.title_label.toolTip() == LONG_LABEL + " " + "x" * 80  # the whole label, unbroken
    assert not clipped(pane.widget())


def test_the_window_at_its_minimum_size_and_a_large_font_cuts_off_no_text(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    store(vault, make_key("binance"), "Bot key", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    store(vault, make_key("kraken"), LONG_LABEL, purpose="tax")
    w = make_window()
    f = w.font()
    f.setPointSizeF(f.pointSizeF() * 1.5)
    w.setFont(f)  # the window's font, which its parts inherit
    w.resize(w.minimumSize())
    w.table.selectRow(1)
    qtbot.wait(100)
    assert not clipped(w.summary), clipped(w.summary)
    header = w.detail.title_label.parentWidget()
    assert not clipped(header), clipped(header)
    title = w.detail.title_label
    assert title.height() >= title.heightForWidth(title.width())  # the whole name, wrapped
