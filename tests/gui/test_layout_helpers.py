"""``clear_layout``: the one way views that re-render from state empty a layout (add dialog, rotation pages)."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from keyhygiene.ui.widgets import Chip, FlowLayout, clear_layout


def test_clear_layout_empties_box_and_flow_layouts_and_deletes_their_widgets(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    box = QVBoxLayout(host)
    flow_host = QWidget(host)
    flow = FlowLayout(flow_host)
    for i in range(3):
        flow.addWidget(Chip(f"chip {i}"))
        box.addWidget(QLabel(f"label {i}", host))
    box.addStretch(1)  # a spacer item: taken out, no widget to delete
    destroyed: list[object] = []
    for w in host.findChildren(QLabel):
        w.destroyed.connect(lambda *_a: destroyed.append(1))
    clear_layout(box)
    clear_layout(flow)
    assert box.count() == 0 and flow.count() == 0
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    # Chips are QLabels too: three labels and three chips went, the host and the flow's host stay.
    assert len(destroyed) == 6
    assert host.findChildren(QLabel) == [] and flow_host.parent() is host
