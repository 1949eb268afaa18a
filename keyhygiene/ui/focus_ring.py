"""A focus ring that can be seen: a 2 px outline in the theme's focus colour around the control that has the
keyboard focus (issue 20: Fusion's dotted focus rectangle all but vanished, most of all in dark mode and on
toolbar buttons).

One ring per window, a child of the window made once and never reparented: a QFocusFrame, which moves into the
focused widget's parent, disturbed the Tab order that dialogs set up with setTabOrder. The ring follows its widget
through moves, resizes and scrolling (an event filter on the widget and its ancestors, only while it is shown) and
is clipped to what of the widget is visible. It shows when the focus arrives by keyboard; a click moves the focus
too, but the pointer already says where it is.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QTabBar,
    QWidget,
)

from keyhygiene.ui import theme

# Text fields draw their own focus (a highlighted border and the caret); these draw next to nothing.
RINGED = (QAbstractButton, QComboBox, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QTabBar)
WIDTH = 2
MARGIN = 2  # outside the widget, so the ring does not cover its own border
_FOLLOW = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.ParentChange)


class FocusRing(QWidget):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("focusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.target: QWidget | None = None
        self._watched: list[QWidget] = []
        self._full = QRect()  # the ring's rectangle before clipping, in this widget's coordinates
        self._pending = False
        self.hide()

    def follow(self, w: QWidget | None) -> None:
        for a in self._watched:
            if shiboken6.isValid(a):
                a.removeEventFilter(self)
        self._watched = []
        self.target = w
        if w is None:
            self.hide()
            return
        a: QWidget | None = w
        while a is not None and a is not self.parentWidget():
            a.installEventFilter(self)
            self._watched.append(a)
            a = a.parentWidget()
        self.place()

    def place(self) -> None:
        w, window = self.target, self.parentWidget()
        if w is None or window is None or not shiboken6.isValid(w) or not w.isVisible():
            self.hide()
            return
        full = QRect(w.mapTo(window, QPoint(0, 0)), w.size()).adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        visible = QRect(full)
        a = w.parentWidget()
        while a is not None and a is not window:  # clip to every scrolled or split ancestor
            visible = visible.intersected(QRect(a.mapTo(window, QPoint(0, 0)), a.size()))
            a = a.parentWidget()
        if visible.isEmpty():
            self.hide()
            return
        self.setGeometry(visible)
        self._full = full.translated(-visible.topLeft())
        self.raise_()
        self.show()
        self.update()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        t = event.type()
        if t == QEvent.Type.Hide:
            self.hide()  # nothing more: a hide may come from a window being torn down
        if t in _FOLLOW and not self._pending:
            # Placed at the next turn of the event loop, once the move or resize is done; a timer tied to this
            # ring never fires after it is gone (a window closing takes the ring with it).
            self._pending = True
            QTimer.singleShot(0, self, self._place_later)
        return False

    def _place_later(self) -> None:
        self._pending = False
        self.place()

    def paintEvent(self, _e: QPaintEvent) -> None:
        w = self.target
        if w is None or not shiboken6.isValid(w):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(theme.focus_color(theme.is_dark(w.palette())), WIDTH))
        p.setBrush(Qt.BrushStyle.NoBrush)
        half = WIDTH / 2
        p.drawRoundedRect(QRectF(self._full).adjusted(half, half, -half, -half), 4, 4)


class FocusRings(QObject):
    """Moves each window's ring to whichever ringed control has the focus."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._current: FocusRing | None = None
        app.focusChanged.connect(self._on_app_focus_changed)

    def ring_of(self, window: QWidget) -> FocusRing:
        ring = window.findChild(FocusRing, "focusRing", Qt.FindChildOption.FindDirectChildrenOnly)
        return ring if ring is not None else FocusRing(window)

    def _on_app_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        current = self._current
        if current is not None and shiboken6.isValid(current):
            current.follow(None)
        self._current = None
        by_mouse = QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
        if new is None or by_mouse or not isinstance(new, RINGED):
            return
        window = new.window()
        if window is None or window is new:
            return
        ring = self.ring_of(window)
        ring.follow(new)
        self._current = ring


def install(app: QApplication) -> FocusRings:
    existing = app.findChild(FocusRings)
    return existing if existing is not None else FocusRings(app)
