"""Painting the key list's cells: chips (permissions, services, risk pills), the two-line label, icons, text.

Why one delegate that blits cached pictures: while an audit runs, the asyncio thread keeps the GIL busy, and every
call from Qt into Python (each ``data()`` role, each delegate call) has to win the GIL back. Qt's own item painting
asks the model for ~10 roles per cell, and chip painting makes ~10 painter calls per chip: a repaint of the list
was ~2,000 GIL hand-overs, 40-200 ms with an audit running (tests/benchmarks, gui_stall). Here a cell costs one
``data(CELL_ROLE)`` call and one ``drawPixmap``; its picture is drawn once per distinct content, size and state
and kept in a small LRU cache (equal cells - "not shared", "Read · Spot" - share one picture).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from keyhygiene.ui import theme
from keyhygiene.ui.key_table_model import CELL_ROLE, CHIPS_ROLE, SUBTITLE_ROLE

_PAD_X, _GAP, _CHIP_H = 6, 4, 20


def chip_colors(tone: str, dark: bool) -> tuple[QColor, QColor]:
    """Background and text colour of a chip. ``sev:<severity>`` is a solid pill in the severity's colour."""
    if tone.startswith("sev:"):
        bg = theme.severity_color(tone[4:], dark)
        return bg, QColor("#101214") if dark else QColor("#ffffff")
    return theme.tone_colors(tone, dark)


def paint_chips(painter: QPainter, rect: QRectF, chips: list[tuple[str, str]], font: QFont, dark: bool,
                elide_color: QColor) -> None:
    fm = QFontMetrics(font)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    x = rect.left()
    h = min(_CHIP_H, rect.height() - 4)
    y = rect.top() + (rect.height() - h) / 2
    for n, (text, tone) in enumerate(chips):
        w = fm.horizontalAdvance(text) + 2 * _PAD_X
        rest = len(chips) - n - 1
        more = f"+{rest}" if rest else ""
        room = rect.right() - x - (fm.horizontalAdvance(more) + _GAP if more else 0)
        if w > room:
            if n == 0:
                # Never an empty cell: shorten the first chip to what fits.
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(0, int(room) - 2 * _PAD_X))
                w = fm.horizontalAdvance(text) + 2 * _PAD_X
            else:
                painter.setPen(elide_color)
                painter.drawText(QRectF(x, y, rect.right() - x, h), Qt.AlignmentFlag.AlignVCenter,
                                 f"+{len(chips) - n}")
                break
        bg, fg = chip_colors(tone, dark)
        path = QPainterPath()
        path.addRoundedRect(QRectF(x, y, w, h), h / 2, h / 2)
        painter.fillPath(path, bg)
        painter.setPen(fg)
        painter.drawText(QRectF(x, y, w, h), Qt.AlignmentFlag.AlignCenter, text)
        x += w + _GAP
    painter.restore()


def chips_width(chips: list[tuple[str, str]], font: QFont) -> int:
    fm = QFontMetrics(font)
    return sum(fm.horizontalAdvance(t) + 2 * _PAD_X + _GAP for t, _ in chips) + 8


def chip_font(base: QFont) -> QFont:
    f = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        f.setPointSizeF(max(7.5, size * 0.88))
    f.setWeight(QFont.Weight.DemiBold)
    return f


Cell = tuple[Any, ...]
CACHE_SIZE = 1200  # pictures; a screenful of the list is ~25 rows x 9 columns, selected and not
ICON_PX = 22
# Drawing new pictures is the expensive part of a paint (a screenful after a sort, a filter or a burst of audit
# results). Past this much drawing in one burst, the remaining new cells show their plain text for one frame and are
# drawn in the next turns of the event loop, so no single turn keeps input and timers waiting.
RENDER_BUDGET_S = 0.006
BURST_GAP_S = 0.030  # a paint that starts this long after the last drawing starts a new budget


# The state bits as ints, looked up once: PySide's flags are Python enum.Flag, and each ``state & flag`` makes a new
# Flag member in Python (~5,000 instructions); the cell reads the state's int once and tests it (issue 21: ~2 M
# instructions of the first frame's ~150 cells).
_SELECTED = QStyle.StateFlag.State_Selected.value
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value
# The style's item panel goes under the picture when selected or hovered (styles that highlight hovered rows);
# one mask so a plain cell pays a single test. Hover is not in the cache key: the picture is the same either way.
_PANEL_STATES = _SELECTED | QStyle.StateFlag.State_MouseOver.value
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_FOCUS_RECT = QStyle.PrimitiveElement.PE_FrameFocusRect


class CellDelegate(QStyledItemDelegate):
    """Paints every column of the key list from ``CELL_ROLE`` (``key_table_model.cell_content``)."""

    def __init__(self, parent: QWidget | None = None, capacity: int = CACHE_SIZE) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[tuple[Any, ...], QPixmap] = OrderedDict()
        self._capacity = capacity
        self.renders = 0  # pictures drawn (tests check that equal cells reuse one)
        self.deferred = 0  # cells shown as plain text for a frame because the budget was spent
        self.budget_s = RENDER_BUDGET_S
        self._burst_start = self._burst_end = -1.0
        self._pending: list[tuple[QWidget, QRect]] = []

    def clear_cache(self) -> None:
        self._cache.clear()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cell = index.data(CELL_ROLE)
        if not cell:
            super().paint(painter, option, index)
            return
        state = option.state.value
        selected = bool(state & _SELECTED)
        widget: QWidget | None = option.widget
        if state & _PANEL_STATES and widget is not None:
            # Behind the picture (transparent where nothing is drawn), so the style's highlight shows through.
            widget.style().drawPrimitive(_PANEL, option, painter, widget)
        rect = option.rect
        dpr = painter.device().devicePixelRatioF()
        key = (cell, rect.width(), rect.height(), selected, dpr, option.palette.cacheKey())
        pm = self._cache.get(key)
        if pm is None:
            now = time.perf_counter()
            if now - self._burst_end > BURST_GAP_S:
                self._burst_start = now
            if now - self._burst_start > self.budget_s:
                self._defer(painter, option, cell, selected)
                return
            pm = self._render(cell, rect.size(), dpr, selected, option)
            self._burst_end = time.perf_counter()
            self._cache[key] = pm
            if len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        # drawPixmap(QRect, …) and not (rect.topLeft(), …): building the QPoint lets go of the GIL, and taking it
        # back costs ~10 us per cell while the audit thread runs (tests/benchmarks). Same size: no scaling.
        painter.drawPixmap(rect, pm)
        if state & _HAS_FOCUS and widget is not None:
            focus = QStyleOptionViewItem(option)
            widget.style().drawPrimitive(_FOCUS_RECT, focus, painter, widget)

    def _defer(self, painter: QPainter, option: QStyleOptionViewItem, cell: Cell, selected: bool) -> None:
        """The cell's words in one call now; its picture on the next turn of the event loop."""
        self.deferred += 1
        pal = option.palette
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        words = _plain_text(cell)
        painter.drawText(option.rect.adjusted(6, 0, -6, 0), int(Qt.AlignmentFlag.AlignVCenter), words)
        view = option.widget
        # Cell rectangles are in the viewport's coordinates (the view itself is the frame around it).
        target = view.viewport() if isinstance(view, QAbstractItemView) else view
        if target is None:
            return
        if not self._pending:
            QTimer.singleShot(0, self._flush_pending)
        self._pending.append((target, QRect(option.rect)))

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        self._burst_end = -1.0  # a new turn of the event loop: a fresh budget
        for widget, rect in pending:
            try:
                widget.update(rect)
            except RuntimeError:  # the view went away meanwhile
                pass

    def _render(self, cell: Cell, size: QSize, dpr: float, selected: bool, option: QStyleOptionViewItem) -> QPixmap:
        self.renders += 1
        pm = QPixmap(max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        rect = QRectF(0, 0, size.width(), size.height())
        pal = option.palette
        text = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        kind = cell[0]
        if kind == "icon":
            self._paint_icon(p, rect, str(cell[1]), dpr)
        elif kind == "label":
            _paint_label(p, rect.adjusted(6, 3, -6, -3), str(cell[1]), str(cell[2]), option.font, text, selected)
        elif kind == "chips":
            paint_chips(p, rect.adjusted(6, 0, -4, 0), list(cell[1]), chip_font(option.font), theme.is_dark(pal),
                        pal.color(QPalette.ColorRole.PlaceholderText))
        else:
            colour = theme.severity_color(cell[2], theme.is_dark(pal)) if cell[2] and not selected else text
            _paint_text(p, rect.adjusted(6, 0, -6, 0), str(cell[1]), option.font, colour)
        p.end()
        return pm

    @staticmethod
    def _paint_icon(p: QPainter, rect: QRectF, exchange: str, dpr: float) -> None:
        from keyhygiene.ui.icons import exchange_pixmap  # rendered once per exchange and size, on first use

        x = int(rect.left() + (rect.width() - ICON_PX) / 2)
        y = int(rect.top() + (rect.height() - ICON_PX) / 2)
        p.drawPixmap(QRect(x, y, ICON_PX, ICON_PX), exchange_pixmap(exchange, ICON_PX, dpr))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        chips = index.data(CHIPS_ROLE)
        if chips:
            return QSize(chips_width(chips, chip_font(option.font)), max(base.height(), _CHIP_H + 8))
        if index.data(SUBTITLE_ROLE) is not None:
            fm = QFontMetrics(option.font)
            return QSize(base.width(), fm.height() * 2 + 10)
        return base


def _plain_text(cell: Cell) -> str:
    kind = cell[0]
    if kind == "chips":
        return "  ".join(str(t) for t, _tone in cell[1])
    if kind == "icon":
        return ""
    return str(cell[1])


def _paint_text(p: QPainter, rect: QRectF, text: str, font: QFont, colour: QColor) -> None:
    p.setFont(font)
    p.setPen(colour)
    shown = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width()))
    p.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)


def _paint_label(p: QPainter, rect: QRectF, title: str, subtitle: str, font: QFont, main: QColor,
                 selected: bool) -> None:
    """Two lines: the key's label, and below it (smaller, muted) the exchange and the masked API key."""
    sub = QColor(main)
    sub.setAlphaF(0.72 if selected else 0.62)
    f1 = QFont(font)
    f1.setWeight(QFont.Weight.DemiBold)
    f2 = QFont(font)
    if f2.pointSizeF() > 0:
        f2.setPointSizeF(max(7.5, f2.pointSizeF() * 0.88))
    fm1, fm2 = QFontMetrics(f1), QFontMetrics(f2)
    h1, h2 = fm1.height(), fm2.height()
    top = rect.top() + max(0.0, (rect.height() - h1 - h2) / 2)
    p.setFont(f1)
    p.setPen(main)
    p.drawText(QRectF(rect.left(), top, rect.width(), h1), Qt.AlignmentFlag.AlignVCenter,
               fm1.elidedText(title, Qt.TextElideMode.ElideRight, int(rect.width())))
    p.setFont(f2)
    p.setPen(sub)
    p.drawText(QRectF(rect.left(), top + h1, rect.width(), h2), Qt.AlignmentFlag.AlignVCenter,
               fm2.elidedText(subtitle, Qt.TextElideMode.ElideRight, int(rect.width())))
