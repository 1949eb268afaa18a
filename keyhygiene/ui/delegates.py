"""Painting chips (permissions, services, risk pills) inside table cells."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from keyhygiene.ui import theme
from keyhygiene.ui.key_table_model import CHIPS_ROLE, SUBTITLE_ROLE

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


class ChipDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        chips = index.data(CHIPS_ROLE)
        if not chips:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget: QWidget | None = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = QRectF(option.rect).adjusted(6, 0, -4, 0)
        dark = theme.is_dark(option.palette)
        elide = option.palette.color(option.palette.ColorRole.PlaceholderText)
        paint_chips(painter, rect, chips, chip_font(option.font), dark, elide)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        chips = index.data(CHIPS_ROLE)
        base = super().sizeHint(option, index)
        if not chips:
            return base
        return QSize(chips_width(chips, chip_font(option.font)), max(base.height(), _CHIP_H + 8))


class LabelDelegate(QStyledItemDelegate):
    """Two lines: the key's label, and below it (smaller, muted) the exchange and the masked API key."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title = opt.text
        opt.text = ""
        widget: QWidget | None = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        subtitle = index.data(SUBTITLE_ROLE) or ""
        rect = QRectF(opt.rect).adjusted(6, 3, -6, -3)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        pal = opt.palette
        main = pal.color(pal.ColorRole.HighlightedText if selected else pal.ColorRole.Text)
        sub = QColor(main)
        sub.setAlphaF(0.72 if selected else 0.62)
        f1 = QFont(opt.font)
        f1.setWeight(QFont.Weight.DemiBold)
        f2 = QFont(opt.font)
        if f2.pointSizeF() > 0:
            f2.setPointSizeF(max(7.5, f2.pointSizeF() * 0.88))
        h1, h2 = QFontMetrics(f1).height(), QFontMetrics(f2).height()
        top = rect.top() + max(0.0, (rect.height() - h1 - h2) / 2)
        painter.save()
        painter.setFont(f1)
        painter.setPen(main)
        painter.drawText(QRectF(rect.left(), top, rect.width(), h1), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(f1).elidedText(title, Qt.TextElideMode.ElideRight, int(rect.width())))
        painter.setFont(f2)
        painter.setPen(sub)
        painter.drawText(QRectF(rect.left(), top + h1, rect.width(), h2), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(f2).elidedText(subtitle, Qt.TextElideMode.ElideRight, int(rect.width())))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        fm = QFontMetrics(option.font)
        return QSize(base.width(), fm.height() * 2 + 10)
