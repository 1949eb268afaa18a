"""Diagnosis child for ``startup``: the app's first frame rebuilt with none of the app's code.

``python tests/benchmarks/floor_window.py DATA_DIR`` with ``KEYHYGIENE_BENCH_FIRST_PAINT=PATH``: a QMainWindow of the
app's shape (menus, a toolbar with a filter box and a scope list, the summary strip's frame, the key list with one
delegate painting cached cell pictures of the same kinds, the detail pane's frame, a status bar), its rows read
straight from the vault's SQLite file. It writes ``{"t": <wall-clock time>}`` when its first frame is done, like
``bare_window.py``. Its time against the bare window's is the least any first frame of this shape costs in PySide6
(the Qt namespace's and QStyle's Python types alone are ~25 ms): the part of the app's ratio above it is the app's
own Python.

``--picture``: the same shape drawn without creating any of the Python types PySide6 builds on first use and a
usable window needs: the ``Qt`` namespace (~21 ms: any pen or brush colour, shortcut, alignment, sort order or
header label goes through it), ``QStyle`` (~8 ms: the selection state), ``QKeySequence`` and ``QLineEdit``. So
no shortcuts, no filter box (an empty box of its size), no header labels, black text, chips filled through a
palette's brush. Not something to ship: it shows how much of the floor is those types.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from first_frame import show_and_report

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QMainWindow,
    QSplitter,
    QStyledItemDelegate,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

# Looked up only where used: importing a name creates its Python type, which --picture must not.
ALIGN_CENTER, ALIGN_VCENTER = 0x84, 0x80  # Qt.AlignCenter, Qt.AlignVCenter, as drawText's int flags

WINDOW_SIZE = (1360, 840)
CELL_ROLE = 256 + 6
PICTURE = "--picture" in sys.argv


class Model(QAbstractTableModel):
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else 9

    def data(self, index: Any, role: int = 0) -> Any:
        if role != CELL_ROLE:
            return None
        label, exchange, fingerprint, purpose = self.rows[index.row()]
        col = index.column()
        if col == 1:
            return ("label", label, f"{exchange} \u00b7 {fingerprint}")
        if col in (2, 6, 7):
            return ("chips", (("Read", 0), ("Spot", 1)) if col == 2 else ((purpose, 2),))
        return ("text", str((label, exchange, fingerprint, purpose)[col % 4])[:12])


class LabelledModel(Model):
    """Header labels: converting the orientation argument creates the Qt namespace."""

    def headerData(self, section: int, orientation: Any, role: int = 0) -> Any:  # noqa: N802
        qt = QtCore.Qt
        if role == qt.ItemDataRole.DisplayRole and orientation == qt.Orientation.Horizontal:
            return f"Column {section}"
        return None


class Delegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.cache: dict[Any, QPixmap] = {}
        self.selected = None if PICTURE else QtWidgets.QStyle.StateFlag.State_Selected

    def paint(self, painter: QPainter, option: Any, index: Any) -> None:
        cell = index.data(CELL_ROLE)
        rect = option.rect
        key = (cell, rect.width(), rect.height(), bool(self.selected and option.state & self.selected))
        pm = self.cache.get(key)
        if pm is None:
            pm = self.cache[key] = self._render(cell, rect.width(), rect.height(), option.font)
        painter.drawPixmap(rect, pm)

    @staticmethod
    def _render(cell: Any, width: int, height: int, font: QFont) -> QPixmap:
        pm = QPixmap(width, height)
        pm.fill(QColor(0, 0, 0, 0))
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(font)
        if cell[0] == "chips":
            x = 6.0
            for text, _tone in cell[1]:
                w = fm.horizontalAdvance(text) + 12
                path = QPainterPath()
                path.addRoundedRect(QRectF(x, 10, w, 20), 10, 10)
                p.fillPath(path, _brush(QColor("#e6eef6")))
                if not PICTURE:
                    p.setPen(QColor("#244a6e"))
                p.drawText(QRectF(x, 10, w, 20), ALIGN_CENTER, text)
                x += w + 4
        elif cell[0] == "label":
            p.drawText(QRectF(6, 3, width, 17), ALIGN_VCENTER, cell[1])
            p.drawText(QRectF(6, 20, width, 17), ALIGN_VCENTER, cell[2])
        else:
            p.drawText(QRectF(6, 0, width, height), ALIGN_VCENTER, cell[1])
        p.end()
        return pm


def _brush(color: QColor) -> Any:
    """A solid brush without the Qt namespace: QBrush(QColor) and fillPath(path, QColor) both create it (their
    overloads take Qt.GlobalColor and Qt.BrushStyle); a palette hands out a solid brush of any colour."""
    if not PICTURE:
        return QtGui.QBrush(color)
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Base, color)
    return pal.brush(QPalette.ColorRole.Base)


def main(argv: list[str]) -> int:
    app = QApplication(sys.argv[:1])
    db = sqlite3.connect(f"file:{Path(argv[0]) / 'keyhygiene.sqlite3'}?mode=ro", uri=True)
    rows = db.execute("SELECT label, exchange, fingerprint, purpose FROM keys ORDER BY label").fetchall()
    window = QMainWindow()
    window.resize(*WINDOW_SIZE)
    for name in ("File", "Key", "View", "Tools", "Help"):
        window.menuBar().addMenu(name)
    bar = QToolBar()
    for text in ("Add key", "Audit all", "Cancel audit", "Rotate key", "Export report", "Scan for plaintext keys"):
        action = QAction(text, window)
        if not PICTURE:
            action.setShortcut(QtGui.QKeySequence("Ctrl+N"))
        bar.addAction(action)
    if PICTURE:
        search = QWidget()
        search.setMinimumWidth(220)
    else:
        search = QtWidgets.QLineEdit()
        search.setPlaceholderText("Filter keys\u2026")
        search.setClearButtonEnabled(True)
    bar.addWidget(search)
    scope = QComboBox()
    for i in range(7):
        scope.addItem(f"Scope {i}")
    bar.addWidget(scope)
    window.addToolBar(bar)
    page = QWidget()
    v = QVBoxLayout(page)
    strip = QFrame()
    strip.setMinimumHeight(106)
    v.addWidget(strip)
    split = QSplitter()
    table = QTableView()
    model = Model(rows) if PICTURE else LabelledModel(rows)
    table.setModel(model)
    table.setItemDelegate(Delegate(table))
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(40)
    if not PICTURE:
        table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    split.addWidget(table)
    detail = QWidget()
    detail.setMinimumWidth(340)
    split.addWidget(detail)
    v.addWidget(split, 1)
    window.setCentralWidget(page)
    window.statusBar().showMessage("Keychain: checking\u2026")
    return show_and_report(app, window)


if __name__ == "__main__":
    sys.exit(main([a for a in sys.argv[1:] if a != "--picture"]))
