"""The export dialog at 1.5x the desktop's font: the format list shows each format's whole name (the dialog's fixed
560 px cut "HTML — a web page with charts, for reading and printing" to "…for reading an")."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from keyhygiene.ui.export_dialog import ExportDialog
from tests.helpers.gui import save_shot


def test_the_format_names_are_whole_at_one_and_a_half_times_the_font(gui_services: Any, qtbot: Any,
                                                                     app_font: Any) -> None:
    app_font(1.5)
    dlg = ExportDialog(gui_services)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    QApplication.processEvents()
    box = dlg.format_box
    fm = box.fontMetrics()
    widest = max(fm.horizontalAdvance(box.itemText(i)) for i in range(box.count()))
    # The combo's own frame and arrow take the rest of its sizeHint; it gets at least that.
    assert box.width() >= box.sizeHint().width(), (box.width(), box.sizeHint().width(), widest)
    save_shot(dlg, "p6-after-export-150")
