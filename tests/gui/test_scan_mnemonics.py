"""The scan window by keyboard: each of its buttons has its own Alt+letter (none had one), and Alt+S scans."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from keyhygiene.ui.scan_dialog import ScanDialog
from tests.helpers.gui import WAIT_MS


def _mnemonic(text: str) -> str | None:
    m = re.search(r"&([^&])", text)
    return m.group(1).lower() if m else None


def test_every_scan_button_has_its_own_mnemonic_and_alt_s_scans(gui_services: Any, qtbot: Any,
                                                                tmp_path: Path) -> None:
    dlg = ScanDialog(gui_services, [str(tmp_path)])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    mine = [dlg.add_folder_button, dlg.remove_folder_button, dlg.defaults_button, dlg.scan_button,
            dlg.cancel_button, dlg.import_button, dlg.clean_button]
    keys = [_mnemonic(b.text()) for b in mine]
    assert None not in keys, [b.text() for b in mine]
    every = [_mnemonic(b.text()) for b in dlg.findChildren(QPushButton) if _mnemonic(b.text())]
    assert len(every) == len(set(every)), every
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=WAIT_MS)
    dlg.folders.setFocus()
    with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
