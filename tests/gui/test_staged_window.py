"""The app's window in two steps: what the first frame shows at once, the rest right after it."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSettings
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QApplication

from keyhygiene.ui.delegates import RENDER_BUDGET_S
from keyhygiene.ui.main_window import KEYS_PAGE, WELCOME_PAGE, MainWindow
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def test_a_staged_window_lists_the_keys_first_and_builds_the_rest_after_its_first_frame(  # type: ignore[no-untyped-def]
        vault, gui_services, data_dir, qtbot) -> None:
    for i in range(3):
        store(vault, make_key("binance"), f"Key {i}", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    gui_services.load_rows()
    w = MainWindow(gui_services, settings=QSettings(str(data_dir / "ui.ini"), QSettings.Format.IniFormat),
                   staged=True)
    qtbot.addWidget(w)
    # Before the first frame: the list and its frames, nothing else.
    assert w.model.rowCount() == 3 and w.proxy.rowCount() == 3
    assert not hasattr(w, "detail") and not hasattr(w, "welcome") and not hasattr(w, "score_ring")
    assert w.windowIcon().isNull()
    blank = w.act_add.icon().cacheKey()  # a transparent stand-in keeps the toolbar's layout
    assert w.cells.budget_s == float("inf")  # the first frame draws every cell in full
    assert not w.filter_edit.isClearButtonEnabled() and w.reminders is None and w.regions is None
    # Shortcuts come right after the first frame (QKeySequence's Python type is not needed before it).
    assert w.act_add.shortcuts() == [] and w.act_add.toolTip() == "Store a new exchange key in the keychain"
    assert w.filter_edit.findChildren(QShortcut) == []
    strip_height = w.summary.minimumHeight()
    with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
        w.show()
    # Right after it: everything, and the keys page still in front.
    QApplication.processEvents()
    assert w.score_ring.isVisible() and w.risk_chart.isVisible()
    assert w.detail.parent() is w.detail_host and w.detail.isVisible()
    assert w.stack.currentIndex() == KEYS_PAGE and w.stack.widget(WELCOME_PAGE) is w.welcome
    assert "3 keys" in w.subline.text() or "3 key" in w.headline.text()
    assert not w.windowIcon().isNull() and w.act_add.icon().cacheKey() != blank
    assert w.cells.budget_s == RENDER_BUDGET_S
    assert w.filter_edit.isClearButtonEnabled() and w.reminders is not None and w.regions is not None
    assert "Ctrl+N" in [k.toString() for k in w.act_add.shortcuts()] and "(" in w.act_add.toolTip()
    assert [c.key().toString() for c in w.filter_edit.findChildren(QShortcut)] == ["Esc"]  # clears the filter
    assert w.toolbar.widgetForAction(w.act_add) in w.toolbar_buttons
    assert w._page_layout.indexOf(w.keychain_banner) == 0 and not w.keychain_banner.isVisible()
    QApplication.processEvents()
    assert w.summary.height() >= strip_height
    # And it works as a whole window: selecting a key fills the detail pane.
    w.table.selectRow(0)
    assert w.detail.key_id == w.selected_id()
    w.finish_building()  # idempotent
    assert w.stack.count() == 2
    w.close()


def test_a_staged_window_over_an_empty_vault_is_built_whole(gui_services, data_dir, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    gui_services.load_rows()
    w = MainWindow(gui_services, settings=QSettings(str(data_dir / "ui.ini"), QSettings.Format.IniFormat),
                   staged=True)
    qtbot.addWidget(w)
    assert w.stack.currentIndex() == WELCOME_PAGE and hasattr(w, "detail")
    w.close()


def test_after_the_first_frame_the_rest_is_built_one_piece_per_turn_of_the_event_loop(  # type: ignore[no-untyped-def]
        vault, gui_services, data_dir, qtbot) -> None:
    """The window answers between the pieces (issue 21: nothing blocks the GUI thread for long after the first frame
    either); finish_building() called meanwhile does the rest at once, and the pieces are not done twice."""
    store(vault, make_key("binance"), "Key", purpose="bot")
    gui_services.load_rows()
    w = MainWindow(gui_services, settings=QSettings(str(data_dir / "ui.ini"), QSettings.Format.IniFormat),
                   staged=True)
    qtbot.addWidget(w)
    done: list[bool] = []
    w._build_in_steps(lambda: done.append(True))
    assert w.reminders is not None and not hasattr(w, "welcome") and not done  # one piece, the rest queued
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert done == [True] and hasattr(w, "detail") and w.stack.count() == 2
    w.finish_building()  # nothing left
    assert w.stack.count() == 2
    w.close()
