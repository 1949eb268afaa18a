"""Checks a person would make by looking: is any text cut off, does Tab go where the eye reads next."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QWidget


def _text_of(w: QWidget) -> str:
    if isinstance(w, QLabel):
        if w.pixmap() is not None and not w.pixmap().isNull():
            return ""
        return w.text().replace("&&", "\0").replace("&", "").replace("\0", "&") if w.buddy() else w.text()
    if isinstance(w, QAbstractButton):
        return w.text().replace("&", "")
    return ""


def clipped(root: QWidget) -> list[str]:
    """Every visible label or button under ``root`` whose text does not fit and that has no tooltip with it."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        if not isinstance(w, QLabel | QAbstractButton) or not w.isVisibleTo(root) or w.width() <= 0:
            continue
        text = _text_of(w)
        if not text or (isinstance(w, QLabel) and w.textFormat() == Qt.TextFormat.RichText) or "<" in text:
            continue
        fm = w.fontMetrics()
        if isinstance(w, QLabel) and w.wordWrap():
            need = w.heightForWidth(w.width())
            fits = need <= w.height() + 1
        elif isinstance(w, QLabel):
            room = w.contentsRect().width()
            fits = all(fm.horizontalAdvance(line) <= room + 1 for line in text.splitlines())
        else:
            fits = w.sizeHint().width() <= w.width() + 1 and w.sizeHint().height() <= w.height() + 1
        if not fits and not w.toolTip():
            out.append(f"{type(w).__name__} {text[:60]!r} ({w.width()}x{w.height()})")
    return out


def tab_chain(root: QWidget, start: QWidget | None = None, limit: int = 300) -> list[QWidget]:
    """The widgets Tab visits inside ``root`` from ``start`` (the first focusable one), once round."""
    def stops(w: QWidget) -> bool:
        return (w.isVisibleTo(root) and w.isEnabled() and bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)
                and w.focusProxy() is None)

    chain: list[QWidget] = []
    w = start or root.nextInFocusChain()
    for _ in range(limit):
        if w is None:
            break
        if (root.isAncestorOf(w) or w is root) and stops(w):
            if chain and w is chain[0]:
                break
            if w not in chain:
                chain.append(w)
        w = w.nextInFocusChain()
        if w is start:
            break
    return chain


def out_of_reading_order(root: QWidget, chain: list[QWidget], tolerance: int = 6) -> list[str]:
    """Steps of the Tab chain that go back up the window (reading order is top to bottom, then left to right)."""
    bad: list[str] = []
    prev: tuple[QWidget, QPoint] | None = None
    for w in chain:
        top_left = _seen_at(root, w)
        if prev is not None:
            pw, pp = prev
            same_row = abs(top_left.y() - pp.y()) <= tolerance or (
                top_left.y() < pp.y() + pw.height() and pp.y() < top_left.y() + w.height())
            if (not same_row and top_left.y() < pp.y()) or (same_row and top_left.x() + tolerance < pp.x()):
                bad.append(f"{_name(pw)} -> {_name(w)}")
        prev = (w, top_left)
    return bad


def _seen_at(root: QWidget, w: QWidget) -> QPoint:
    """Where the eye finds ``w``: inside a scroll area, a widget scrolled out of view counts as at its edge."""
    p = w.mapTo(root, QPoint(0, 0))
    a = w.parentWidget()
    while a is not None and a is not root:
        if isinstance(a, QAbstractScrollArea) and a.viewport().isAncestorOf(w):
            top = a.mapTo(root, QPoint(0, 0))
            p.setY(min(max(p.y(), top.y()), top.y() + a.height() - 1))
        a = a.parentWidget()
    return p


def _name(w: QWidget) -> str:
    return w.accessibleName() or _text_of(w) or w.objectName() or type(w).__name__
