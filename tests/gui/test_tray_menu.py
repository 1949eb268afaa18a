"""The tray menu: "Show KeyHygiene" is its default (what a click on the icon does) and every entry has its own
Alt+letter ("Show KeyHygiene" had none)."""

from __future__ import annotations

import re
from typing import Any

from keyhygiene.ui.tray import Tray
from tests.helpers.gui import save_shot


def test_the_tray_menu_has_a_default_and_a_mnemonic_for_each_entry(make_window: Any, qtbot: Any) -> None:
    w = make_window()
    tray = Tray(w, [w.act_audit, w.act_add, w.act_quit])
    menu = tray.contextMenu()
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert menu.defaultAction() is entries[0] and entries[0].text().replace("&", "") == "Show KeyHygiene"
    keys = [m.group(1).lower() for a in entries if (m := re.search(r"&([^&])", a.text()))]
    assert len(keys) == len(entries) and len(set(keys)) == len(keys), [a.text() for a in entries]
    menu.adjustSize()
    save_shot(menu, "p6-after-tray")  # drawn without popping up (no grab on offscreen)
