"""Small reusable widgets: a wrapping flow layout, chips, section titles and message banners."""

from __future__ import annotations

import html
import re
import urllib.parse

from PySide6.QtCore import QMargins, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

from keyhygiene.ui import theme
from keyhygiene.ui.delegates import chip_colors


class FlowLayout(QLayout):
    """Lays children out left to right, wrapping to new lines (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 5) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def addWidget(self, w: QWidget) -> None:
        self.addChildWidget(w)
        self.addItem(QWidgetItem(w))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._do_layout(QRect(0, 0, width, 0), test=True)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._do_layout(rect, test=False)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m: QMargins = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _do_layout(self, rect: QRect, test: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            next_x = x + hint.width() + self._spacing
            if next_x - self._spacing > area.right() + 1 and line_h > 0:
                x, y = area.x(), y + line_h + self._spacing
                next_x = x + hint.width() + self._spacing
                line_h = 0
            if not test:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x = next_x
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y() + m.bottom()


class Chip(QLabel):
    """A rounded label in one of the theme's tones (``danger``, ``warn``, ``neutral``, ``sev:high``…).

    It paints its pill itself: a style sheet per chip made Qt re-polish every chip (and its parent) whenever one
    was created, ~2 ms each, and the summary and detail pane create a dozen at a time while an audit reports.
    """

    PAD_X, PAD_Y, RADIUS = 8, 1, 9

    def __init__(self, text: str, tone: str = "neutral", tooltip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.tone = tone
        if tooltip:
            self.setToolTip(tooltip)
        self.setAccessibleName(text)
        f = QFont(self.font())
        f.setWeight(QFont.Weight.DemiBold)
        if f.pointSizeF() > 0:
            f.setPointSizeF(max(7.5, f.pointSizeF() * 0.9))
        self.setFont(f)
        self.setContentsMargins(self.PAD_X, self.PAD_Y, self.PAD_X, self.PAD_Y)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def colors(self) -> tuple[QColor, QColor]:
        """Background and text colour for the application palette (light or dark) in use now."""
        return chip_colors(self.tone, theme.is_dark())

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt API
        bg, fg = self.colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        r = QRectF(self.rect())
        radius = min(self.RADIUS, r.height() / 2)
        path.addRoundedRect(r, radius, radius)
        p.fillPath(path, bg)
        p.setPen(fg)
        p.setFont(self.font())
        p.drawText(self.contentsRect(), int(Qt.AlignmentFlag.AlignCenter), self.text())
        p.end()


def chips_row(chips: list[tuple[str, str]], parent: QWidget | None = None) -> QWidget:
    w = QWidget(parent)
    lay = FlowLayout(w)
    for text, tone in chips:
        lay.addWidget(Chip(text, tone))
    return w


class SectionTitle(QLabel):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        f = QFont(self.font())
        f.setBold(True)
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 1.05)
        self.setFont(f)
        self.setAccessibleName(text)
        self.setContentsMargins(0, 10, 0, 2)


_URL = re.compile(r"https?://[^\s)\]>,;]+[^\s)\]>,;.]")


def linkify(text: str) -> str:
    """Plain text to rich text with each URL as a short link (its host): long URLs would not wrap in a pane."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        url = m.group(0)
        host = urllib.parse.urlsplit(url).netloc.removeprefix("www.") or url
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(host)}</a>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def rich(text: str, parent: QWidget | None = None) -> QLabel:
    """A wrapping label whose URLs are clickable short links (opened in the browser)."""
    lab = QLabel(linkify(text), parent)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setOpenExternalLinks(True)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    lab.setAccessibleName(text[:200])
    return lab


def muted(label: QLabel) -> QLabel:
    # A role, not a colour: it follows the palette when the system switches between light and dark.
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def wrap(text: str, parent: QWidget | None = None, *, selectable: bool = False, rich: bool = False) -> QLabel:
    lab = QLabel(text, parent)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if selectable:
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return lab


class Banner(QFrame):
    """A coloured message bar with optional buttons, for reminders, keychain problems and resumable work."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(12, 8, 8, 8)
        self._lay.setSpacing(10)
        self._icon = QLabel(self)
        self._text_box = QVBoxLayout()
        self._title = QLabel(self)
        f = QFont(self._title.font())
        f.setBold(True)
        self._title.setFont(f)
        self._text = QLabel(self)
        self._text.setWordWrap(True)
        self._text.setTextFormat(Qt.TextFormat.PlainText)
        self._text_box.addWidget(self._title)
        self._text_box.addWidget(self._text)
        self._lay.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        self._lay.addLayout(self._text_box, 1)
        self._buttons: list[QPushButton] = []
        self.severity = "info"
        self._dark = theme.is_dark()
        self.setAccessibleName("Notice")
        self.hide()

    def show_message(self, title: str, text: str, severity: str = "medium",
                     buttons: list[tuple[str, object]] | None = None) -> None:
        from keyhygiene.ui.icons import action_icon

        self.severity = severity
        self._title.setText(title)
        self._title.setVisible(bool(title))
        self._text.setText(text)
        self.setAccessibleDescription(f"{title}. {text}")
        for b in self._buttons:
            b.deleteLater()
        self._buttons = []
        for label, slot in buttons or []:
            b = QPushButton(label, self)
            b.setAccessibleName(label)
            b.clicked.connect(slot)
            self._lay.addWidget(b, 0, Qt.AlignmentFlag.AlignVCenter)
            self._buttons.append(b)
        color = theme.severity_color(severity, theme.is_dark())
        self._icon.setPixmap(action_icon("warning" if severity in ("critical", "high", "medium") else "bell",
                                         color).pixmap(20, 20))
        self._apply_style()
        self.show()

    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)

    def text(self) -> str:
        return self._text.text()

    def title(self) -> str:
        return self._title.text()

    def _apply_style(self) -> None:
        dark = self._dark = theme.is_dark()
        c = theme.severity_color(self.severity, dark)
        bg = QColor(c)
        bg.setAlpha(38 if not dark else 60)
        self.setStyleSheet(
            f"#banner {{ background: rgba({bg.red()},{bg.green()},{bg.blue()},{bg.alpha()});"
            f" border: 1px solid {c.name()}; border-radius: 6px; }}"
        )

    def changeEvent(self, e) -> None:
        if e.type() == e.Type.PaletteChange and self.isVisible() and theme.is_dark() != self._dark:
            self._apply_style()
        super().changeEvent(e)
