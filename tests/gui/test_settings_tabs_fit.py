"""The settings dialog opens wide enough for all its tabs' titles: it showed "Team v…" behind scroll arrows."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication, QToolButton

from keyhygiene.ui.settings_dialog import SettingsDialog
from tests.helpers.gui import save_shot


def test_every_settings_tab_title_shows_whole(gui_services: Any, qtbot: Any) -> None:
    dlg = SettingsDialog(gui_services)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    QApplication.processEvents()
    bar = dlg.tabs.tabBar()
    # The tab bar's scroll arrows are QToolButtons it shows only when the tabs do not fit.
    arrows = [b for b in bar.findChildren(QToolButton) if b.isVisible()]
    assert arrows == [], (bar.width(), bar.sizeHint().width())
    last = bar.tabRect(bar.count() - 1)
    assert last.right() <= bar.width(), (last, bar.width())
    save_shot(dlg, "p6-after-settings-tabs")
