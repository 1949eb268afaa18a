"""Reminders: keys past their age limit, keys (or trade rights) about to expire, and registry incidents that
touch a stored key. Shown as a banner in the window and, where the platform has a tray, as a notification.

``collect`` is plain Python over ``KeyRow`` snapshots; ``ReminderCenter`` only schedules it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import QObject, QTimer, Signal

from keyhygiene.ui.key_row import KeyRow


@dataclass(frozen=True)
class Reminder:
    kind: str  # "age" | "expiry" | "expired" | "incident"
    key_id: str
    label: str
    text: str
    severity: str  # for colouring: "critical" | "high" | "medium"

    @property
    def ident(self) -> tuple[str, str, str]:
        """What makes a reminder 'the same' across evaluations, so a notification is not repeated."""
        return (self.kind, self.key_id, self.text)


@dataclass(frozen=True)
class IncidentRef:
    service: str
    service_name: str
    day: date | None
    title: str


def collect(rows: Sequence[KeyRow], *, now: datetime, max_age_days: int, expiry_warning_days: int,
            incidents: Callable[[KeyRow], Sequence[IncidentRef]] = lambda _r: ()) -> list[Reminder]:
    out: list[Reminder] = []
    for row in rows:
        rec = row.record
        if rec.state != "active":
            continue
        days = row.age_days(now)
        if days is not None and days > max_age_days:
            out.append(Reminder("age", rec.id, rec.label,
                                f"\u201c{rec.label}\u201d is {days} days old (policy: rotate after {max_age_days}).",
                                "high" if days > 2 * max_age_days else "medium"))
        exp = row.expiry
        if exp is not None:
            left = (exp - now).total_seconds() / 86400
            which = "Its trading permission" if row.profile and exp == row.profile.trade_expires_at else "It"
            if left <= 0:
                out.append(Reminder("expired", rec.id, rec.label,
                                    f"\u201c{rec.label}\u201d: {which.lower()} expired on {exp:%Y-%m-%d}.", "high"))
            elif left <= expiry_warning_days:
                n = max(1, round(left))
                out.append(Reminder("expiry", rec.id, rec.label,
                                    f"\u201c{rec.label}\u201d: {which.lower()} expires in {n} day"
                                    f"{'s' if n != 1 else ''} ({exp:%Y-%m-%d}).",
                                    "high" if left <= 3 else "medium"))
        for inc in incidents(row):
            when = f" on {inc.day:%Y-%m-%d}" if inc.day else ""
            out.append(Reminder("incident", rec.id, rec.label,
                                f"\u201c{rec.label}\u201d was given to {inc.service_name}: "
                                f"{inc.title or 'security incident'}{when}.", "critical"))
    rank = {"critical": 0, "high": 1, "medium": 2}
    return sorted(out, key=lambda r: (rank.get(r.severity, 3), r.label.lower(), r.kind))


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
