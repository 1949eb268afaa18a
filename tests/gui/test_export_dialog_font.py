"""The export dialog at 1.5x the desktop's font: the format list shows each format's whole name (the dialog's fixed
560 px cut "HTML — a web page with charts, for reading and printing" to "…for reading an")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from keyhygiene.ui.export_dialog import ExportDialog


@pytest.fixture
def large_font(qapp: Any) -> Iterator[None]:
    """The application's font 1.5x, as a user who set the desktop's font so starts the app (as in
    tests/gui/test_charts_widget.py), and back afterwards."""
    normal = QFont(qapp.font())
    f = QFont(normal)
    f.setPointSizeF(normal.pointSizeF() * 1.5)
    qapp.setFont(f)
    yield
    qapp.setFont(normal)


def test_the_format_names_are_whole_at_one_and_a_half_times_the_font(gui_services: Any, qtbot: Any,
                                                                     large_font: None) -> None:
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
    dlg.grab().save("/work/shots/p6-after-export-150.png")
