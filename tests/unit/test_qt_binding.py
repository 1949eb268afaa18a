"""The Qt binding itself must not corrupt the interpreter.

PySide6 6.12.0 drops one reference to ``None`` on every call of an overloaded method that returns nothing
(``QPainter.setPen``, ``drawPixmap``, ...). On Python 3.11, where ``None`` is not immortal, its count reaches zero
after a few thousand table paints and the app aborts with "Fatal Python error: none_dealloc". pyproject.toml
excludes that release; this test fails on any binding with the same defect, for every painter call the app's
delegates, charts and icons make.
"""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui

CALLS = 500


def _none_refs() -> int:
    return sys.getrefcount(None)


def test_painter_calls_keep_none_alive(qapp: object) -> None:
    from PySide6.QtCore import QPoint, QRect, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPixmap

    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    pixmap = QPixmap(8, 8)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, 10, 10), 3, 3)
    painter = QPainter(image)
    calls = {
        "setPen(QColor)": lambda: painter.setPen(QColor("red")),
        "setBrush(QColor)": lambda: painter.setBrush(QColor("red")),
        "setFont": lambda: painter.setFont(QFont()),
        "drawPixmap(QPoint)": lambda: painter.drawPixmap(QPoint(0, 0), pixmap),
        "drawPixmap(x, y)": lambda: painter.drawPixmap(0, 0, pixmap),
        "drawText(QRectF)": lambda: painter.drawText(QRectF(0, 0, 20, 20), Qt.AlignmentFlag.AlignCenter, "x"),
        "fillPath": lambda: painter.fillPath(path, QColor("blue")),
        "fillRect": lambda: painter.fillRect(QRect(0, 0, 4, 4), QColor("blue")),
        "save/restore": lambda: (painter.save(), painter.restore()),
        "QPixmap.fill": lambda: pixmap.fill(QColor("white")),
    }
    lost = {}
    try:
        for name, call in calls.items():
            before = _none_refs()
            for _ in range(CALLS):
                call()
            delta = _none_refs() - before
            if delta < -CALLS // 2:
                lost[name] = -delta
    finally:
        painter.end()
    assert not lost, f"the Qt binding drops references to None (calls of {CALLS}): {lost}"
