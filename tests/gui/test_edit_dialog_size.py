"""The edit dialog opens tall enough for the key's sharings: it was sized before they were listed, and opened with
them cut off under a scroll bar."""

from __future__ import annotations

from datetime import date
from typing import Any

from keyhygiene.ui.add_key_dialog import AddKeyDialog
from tests.helpers.gui import save_shot, store
from tests.helpers.simkeys import make_key


def test_the_edit_dialog_shows_its_sharings_without_scrolling(vault: Any, make_window: Any, qtbot: Any) -> None:
    kid = store(vault, make_key("binance"), "3Commas DCA bot", purpose="bot",
                shared=[("3commas", date(2022, 3, 1)), ("koinly", date(2023, 1, 5))])
    w = make_window()
    dlg = AddKeyDialog(w.services, key_id=kid)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    qtbot.wait(50)
    assert dlg.sharing.list.isVisible() and dlg.sharing.list.count() == 2
    from PySide6.QtWidgets import QScrollArea
    scroll = dlg.findChild(QScrollArea)
    assert scroll is not None and not scroll.verticalScrollBar().isVisible(), dlg.height()
    save_shot(dlg, "p6-after-edit")
