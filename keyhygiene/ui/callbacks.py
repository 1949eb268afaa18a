"""Delivering a background result to a GUI callback, unless the widget that asked is gone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


def alive(obj: QObject | None) -> bool:
    """False once Qt has deleted the C++ side (a dialog closed while its check was running)."""
    return obj is None or shiboken6.isValid(obj)


def deliver(context: QObject | None, fn: Callable[[Any], None], value: Any) -> None:
    if alive(context):
        fn(value)


class AfterPaint(QObject):
    """Runs callables on the GUI thread once a widget has painted what just changed.

    Used to start work that keeps the GIL busy (the audit's first step, loading the exchange stack) only after the
    key list shows the audit's first state: a repaint that has to win the GIL back for every cell while that work
    runs takes ten times longer. Neither a 0 ms timer nor a low-priority event is enough: Qt delivers the repaint
    of an ``update()`` on the window's own schedule. Without a visible target, or if no paint comes within
    ``fallback_ms``, the callables run anyway.
    """

    def __init__(self, parent: QObject | None = None, fallback_ms: int = 150) -> None:
        super().__init__(parent)
        self._target: QWidget | None = None
        self._queue: list[Callable[[], None]] = []
        self._watching = False
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(fallback_ms)
        self._fallback.timeout.connect(self._flush)

    def set_target(self, widget: QWidget | None) -> None:
        self._unwatch()
        self._target = widget
        if self._queue:
            self._watch()

    def call(self, fn: Callable[[], None]) -> None:
        target = self._target
        if target is None or not alive(target) or not target.isVisible():
            fn()
            return
        self._queue.append(fn)
        self._watch()
        self._fallback.start()

    def _watch(self) -> None:
        if not self._watching and self._target is not None and alive(self._target):
            self._target.installEventFilter(self)  # only while something waits: no Python call per event else
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching and self._target is not None and alive(self._target):
            self._target.removeEventFilter(self)
        self._watching = False

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and self._queue:
            QTimer.singleShot(0, self._flush)  # once this paint has returned
        return False

    def _flush(self) -> None:
        self._fallback.stop()
        self._unwatch()
        queue, self._queue = self._queue, []
        for fn in queue:
            fn()
