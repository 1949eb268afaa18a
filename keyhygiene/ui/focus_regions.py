"""F6 / Shift+F6 (and Ctrl+Tab / Ctrl+Shift+Tab) move the keyboard focus between the window's regions, as Qt
Creator, KeePassXC and browsers do: toolbar, filter, key list, details. Tab still walks the controls inside one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QToolBar, QToolButton, QWidget

NEXT_KEYS = ("F6", "Ctrl+Tab")
PREVIOUS_KEYS = ("Shift+F6", "Ctrl+Shift+Tab")

Region = Callable[[], QWidget | None]


def first_focusable(root: QWidget) -> QWidget | None:
    """The first control Tab would reach inside ``root`` (root itself when it takes focus)."""
    if root.focusPolicy() & Qt.FocusPolicy.TabFocus and root.isEnabled() and root.isVisible():
        return root
    w = root.nextInFocusChain()
    for _ in range(5000):  # the chain is a ring; this only guards against a broken one
        if w is None or w is root:
            return None
        if root.isAncestorOf(w) and w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            return w
        w = w.nextInFocusChain()
    return None


def toolbar_buttons(tb: QToolBar) -> list[QToolButton]:
    """The toolbar's buttons, made reachable by keyboard (Qt gives toolbar buttons no focus by default)."""
    buttons = []
    for a in tb.actions():
        if a.isSeparator():
            # A separator's widget is of a class private to Qt: asking for it makes PySide create every Python type
            # of QtWidgets while it looks for one (~80 enums, 6-13 ms at start-up), and it is no button anyway.
            continue
        w = tb.widgetForAction(a)
        if isinstance(w, QToolButton):
            w.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            buttons.append(w)
    return buttons


def _depth(w: QWidget) -> int:
    n, p = 0, w.parentWidget()
    while p is not None:
        n, p = n + 1, p.parentWidget()
    return n


class RegionCycler(QObject):
    def __init__(self, window: QWidget, regions: Sequence[Region]) -> None:
        super().__init__(window)
        self._window = window
        self.regions = list(regions)
        self.shortcuts: list[QShortcut] = []
        for keys, step in ((NEXT_KEYS, 1), (PREVIOUS_KEYS, -1)):
            for k in keys:
                sc = QShortcut(QKeySequence(k), window)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(lambda s=step: self.move(s))
                self.shortcuts.append(sc)

    def current(self) -> int:
        """The region holding the focus; the innermost one when regions nest (the filter sits in the toolbar)."""
        focus = self._window.focusWidget()
        best, best_depth = -1, -1
        for i, r in enumerate(self.regions):
            root = r()
            if root is not None and focus is not None and (root is focus or root.isAncestorOf(focus)):
                if _depth(root) > best_depth:
                    best, best_depth = i, _depth(root)
        return best

    def move(self, step: int) -> QWidget | None:
        """Focus the first control of the next (``step`` 1) or previous (-1) visible region."""
        roots = [r() for r in self.regions]
        n = len(roots)
        start = self.current()
        if start < 0:
            start = -1 if step > 0 else 0
        for k in range(1, n + 1):
            root = roots[(start + step * k) % n]
            if root is None or not root.isVisible():
                continue
            target = first_focusable(root)
            if target is not None:
                target.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return target
        return None
