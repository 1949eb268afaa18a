"""Small reusable widgets: a wrapping flow layout, chips, section titles, message banners and a secret field."""

from __future__ import annotations

import html
import re
import urllib.parse
from functools import cache

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QClipboard,
    QColor,
    QContextMenuEvent,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

from keyhygiene.ui import links, theme
from keyhygiene.ui.delegates import chip_colors
from keyhygiene.ui.icons import action_icon


def clear_layout(layout: QLayout) -> None:
    """Take every item out of ``layout`` and delete its widget (views that re-render from state start empty)."""
    while (item := layout.takeAt(0)) is not None:
        gone = item.widget()
        if gone is not None:
            gone.deleteLater()


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
        # Every item on one line: the width the layout would like; given less, heightForWidth() says how tall it
        # gets. This used to be minimumSize() (the widest item alone), and a QFormLayout gives a field that does
        # not expand its size-hint width but works out the row's height for the whole field column: the add
        # dialog's declared permissions were squeezed into a narrow box one line high, most check boxes cut off.
        width = height = 0
        for item in self._visible_items():
            hint = item.sizeHint()
            width += hint.width() + (self._spacing if width else 0)
            height = max(height, hint.height())
        m: QMargins = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        # As narrow as the widest item (one per line); the height for a given width comes from heightForWidth().
        size = QSize(0, 0)
        for item in self._visible_items():
            size = size.expandedTo(item.minimumSize())
        m: QMargins = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible_items(self) -> list[QLayoutItem]:
        # A hidden widget takes no place, and no spacing either.
        return [item for item in self._items if not item.isEmpty()]

    def _do_layout(self, rect: QRect, test: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h = area.x(), area.y(), 0
        for item in self._visible_items():
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


def linkify(text: str, wrap_long: bool = False) -> str:
    """Plain text to rich text with each URL as a short link (its host): long URLs would not wrap in a pane.
    ``wrap_long``: a long path or id in the rest may break too (``breakable``), or it sets the label's width."""
    out: list[str] = []
    pos = 0
    plain = breakable if wrap_long else str
    for m in _URL.finditer(text):
        out.append(html.escape(plain(text[pos:m.start()])))
        url = m.group(0)
        host = urllib.parse.urlsplit(url).netloc.removeprefix("www.") or url
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(host)}</a>')
        pos = m.end()
    out.append(html.escape(plain(text[pos:])))
    return "".join(out)


class CleanCopy(QObject):
    """Copy from a selectable label without the zero-width breaks ``breakable`` put in for wrapping: a path copied
    out of a finding's fix must paste into a terminal as the path. Ctrl+C and the context menu's Copy both."""

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt API
        if not isinstance(obj, QLabel):
            return False
        if e.type() == QEvent.Type.KeyPress and isinstance(e, QKeyEvent) and e.matches(QKeySequence.StandardKey.Copy):
            self.copy(obj)
            return True
        if e.type() == QEvent.Type.ContextMenu and isinstance(e, QContextMenuEvent):
            from PySide6.QtWidgets import QMenu

            menu = QMenu(obj)
            copy = menu.addAction("&Copy", lambda: self.copy(obj))
            copy.setEnabled(obj.hasSelectedText())
            menu.addAction("Select &All", lambda: select_all(obj))
            menu.exec(e.globalPos())
            return True
        return False

    @staticmethod
    def copy(label: QLabel) -> None:
        if label.hasSelectedText():
            QGuiApplication.clipboard().setText(label.selectedText().replace(ZWSP, ""))


def select_all(label: QLabel) -> None:
    """QLabel.setSelection counts the characters shown, not those of its rich text's markup."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    label.setSelection(0, max(0, doc.characterCount() - 1))


@cache
def _clean_copy() -> CleanCopy:
    """One filter for every rich label (it keeps no state), made on first use."""
    return CleanCopy()


def rich(text: str, parent: QWidget | None = None) -> QLabel:
    """A wrapping label whose URLs are clickable short links (opened in the browser, or a message saying why
    not). Its links take no Tab stop of their own: a pane gathers them into one (``links.LinksButton``)."""
    lab = QLabel(linkify(text, wrap_long=True), parent)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.installEventFilter(_clean_copy())
    lab.setOpenExternalLinks(False)
    lab.linkActivated.connect(lambda url, w=lab: links.open_link(w.window(), url))
    lab.setProperty(links.LINKS_PROPERTY, [(links.short_text(m.group(0)), m.group(0)) for m in _URL.finditer(text)])
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                | Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    lab.setAccessibleName(text[:200])
    return lab


_LONG = 24
_LONG_RUN = re.compile(r"\S{24,}")
ZWSP = "\u200b"


def breakable(text: str, every: int = 16) -> str:
    """``text`` with a zero-width break opportunity inside every run of more than 24 characters without a space
    (a file path, a pasted id): word wrap cannot break such a run, so the label's minimum width became the run's
    width and pushed its pane's buttons out of view (issue 20)."""
    def cut(m: re.Match[str]) -> str:
        # Break after the separators a path or an id already has; only a piece still too long is cut blindly.
        pieces = re.split(r"(?<=[/_\\-])", m.group(0))
        out = []
        for piece in pieces:
            if len(piece) > _LONG:
                piece = ZWSP.join(piece[i:i + every] for i in range(0, len(piece), every))
            out.append(piece)
        return ZWSP.join(p for p in out if p)
    return _LONG_RUN.sub(cut, text)


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


_OUTBOUND_KEYS = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut)
_OUTBOUND_MENU_ACTIONS = frozenset({"edit-copy", "edit-cut"})  # object names in QLineEdit's standard menu
# QLineEdit.setEchoMode(Normal) drops these; an input method must not learn a shown secret either.
_SENSITIVE_HINTS = Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText
_HIDDEN_HINTS = _SENSITIVE_HINTS | Qt.InputMethodHint.ImhHiddenText


def _is_outbound(e: QKeyEvent) -> bool:
    return any(e.matches(k) for k in _OUTBOUND_KEYS)


class SecretLineEdit(QLineEdit):
    """A line edit that lets a secret in (typing, paste, drop) but never out (copy, cut, drag, primary selection).

    In Password echo mode QLineEdit refuses to copy by itself; shown (Normal mode) it copies like any field, and
    the secret would reach the system clipboard without SecureClipboard's password hint and clearing.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragEnabled(False)  # Qt's default, made explicit: a drag would carry the selection out too
        clipboard = QGuiApplication.clipboard()
        if clipboard.supportsSelection():
            clipboard.selectionChanged.connect(self._on_selection_published)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent) and _is_outbound(e):
            # Claim Ctrl+C/Ctrl+X so no window shortcut acts on them; keyPressEvent then drops the key.
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if _is_outbound(e):
            e.accept()  # refused; accepted so that the dialog does not act on it either
            return
        super().keyPressEvent(e)

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:  # noqa: N802 - Qt API
        menu = self.createStandardContextMenu()
        for action in menu.actions():
            if action.objectName() in _OUTBOUND_MENU_ACTIONS:
                menu.removeAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(e.globalPos())

    def _on_selection_published(self) -> None:
        # On X11 and Wayland, QLineEdit publishes a selection made in Normal echo mode as the primary selection
        # (middle-click paste) from deep inside its key and mouse handling. Qt sets the selection and emits this
        # synchronously, so taking it back here happens before the event loop could serve it to anyone.
        if self.echoMode() != QLineEdit.EchoMode.Normal or not self.hasSelectedText():
            return
        clipboard = QGuiApplication.clipboard()
        mode = QClipboard.Mode.Selection
        if clipboard.ownsSelection() and clipboard.text(mode) == self.selectedText():
            clipboard.clear(mode)


class SecretField(QWidget):
    """A masked line edit with a show/hide toggle that masks itself again after ``reveal_seconds``.

    Used for every credential the user types in (add a key, rotation's new key), shown or not never copyable.
    """

    def __init__(self, name: str, parent: QWidget | None = None, reveal_seconds: int = 30, *,
                 placeholder: str | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = SecretLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(name)
        self.edit.setInputMethodHints(_HIDDEN_HINTS)
        self.edit.setPlaceholderText(placeholder if placeholder is not None else f"Paste the {name}")
        self.setFocusProxy(self.edit)  # focusing the field (e.g. after a validation error) focuses the edit
        self.toggle = QAction(action_icon("eye"), f"Show {name.lower()}", self)
        self.toggle.setCheckable(True)
        self.toggle.setToolTip(f"Show the {name.lower()} (hidden again after {reveal_seconds} s)")
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.edit.addAction(self.toggle, QLineEdit.ActionPosition.TrailingPosition)
        lay.addWidget(self.edit)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.toggle.setChecked(False))
        self.reveal_seconds = reveal_seconds

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - mirrors QLineEdit
        self.edit.setText(text)

    @property
    def shown(self) -> bool:
        return self.edit.echoMode() == QLineEdit.EchoMode.Normal

    def _on_toggle_toggled(self, on: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        self.edit.setInputMethodHints(_SENSITIVE_HINTS if on else _HIDDEN_HINTS)
        self.toggle.setIcon(action_icon("eye-off" if on else "eye"))
        if on:
            self._timer.start(self.reveal_seconds * 1000)
        else:
            self._timer.stop()

    def wipe(self) -> None:
        self.toggle.setChecked(False)
        self.edit.clear()


class ViewNotice(QLabel):
    """A sentence in the middle of an empty item view ("No key matches …"), so an empty list is not mistaken
    for an empty vault or a broken filter."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view.viewport())
        self._view = view
        self.setObjectName("viewNotice")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.hide()

    def set_notice(self, text: str | None) -> None:
        vp = self._view.viewport()
        if not text:
            if self.isVisibleTo(self._view):
                vp.removeEventFilter(self)
            self.hide()
            self.setText("")
            return
        self.setText(text)
        self._view.setAccessibleDescription(text)
        if not self.isVisibleTo(self._view):
            # Only while shown: an empty view has little to paint, so following its resizes costs nothing.
            vp.installEventFilter(self)
        self._place()
        self.show()

    def _place(self) -> None:
        r = self._view.viewport().rect().adjusted(24, 24, -24, -24)
        self.setGeometry(r.x(), r.y(), r.width(), max(self.heightForWidth(r.width()), self.sizeHint().height()) + 8)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False


def available_size(w: QWidget) -> QSize:
    """The room on the screen a window opens on (the primary screen before it is shown), for sizing dialogs to
    their content without running off the screen."""
    screen = w.screen() if w.isVisible() else QGuiApplication.primaryScreen()
    return screen.availableGeometry().size() if screen is not None else QSize(1280, 800)
