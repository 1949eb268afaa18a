"""Reminders: keys past their age limit, keys (or trade rights) about to expire, and registry incidents that
touch a stored key. Shown as a banner in the window and, where the platform has a tray, as a notification.

A reminder is a current finding (``core.assessment.Reminder``): ``collect`` only gathers the ones each row's
assessment carries, worst first, so the banner can never say more, or less, than the findings.
``ReminderCenter`` only schedules it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from keyhygiene.ui.key_row import KeyRow

if TYPE_CHECKING:
    from keyhygiene.core.assessment import Reminder


def collect(rows: Sequence[KeyRow]) -> list[Reminder]:
    # Imported here: the rules behind it load after the window's first paint (core_bridge's reason).
    from keyhygiene.core.assessment import sort_reminders

    return sort_reminders(r for row in rows for r in row.reminders)


class ReminderCenter(QObject):
    """Re-evaluates reminders at start and every ``hours``; announces reminders not announced before."""

    changed = Signal(list)  # list[Reminder], everything currently true
    announce = Signal(list)  # list[Reminder], only the ones new since the last announcement

    def __init__(self, evaluate: Callable[[], list[Reminder]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._evaluate = evaluate
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._announced: set[tuple[str, str, str]] = set()
        self.current: list[Reminder] = []

    def set_interval_hours(self, hours: int) -> None:
        if hours > 0:
            self._timer.start(hours * 3600 * 1000)
        else:
            self._timer.stop()

    def interval_ms(self) -> int:
        return self._timer.interval() if self._timer.isActive() else 0

    def refresh(self, announce: bool = True) -> list[Reminder]:
        self.current = self._evaluate()
        self.changed.emit(self.current)
        if announce:
            new = [r for r in self.current if r.ident not in self._announced]
            self._announced.update(r.ident for r in new)
            if new:
                self.announce.emit(new)
        return self.current

    def _on_timer_timeout(self) -> None:
        self.refresh(announce=True)
