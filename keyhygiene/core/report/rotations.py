"""The rotation history as the report shows it, read from the ``rotations`` table.

The rotation engine owns that table and may add columns or states over time, so this reader asks only for what it
needs, tolerates missing columns and unknown states, and never fails the report because of one odd row.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from keyhygiene.core.timeutil import parse_iso

log = logging.getLogger(__name__)

# A rotation that ended without replacing the key. Anything else with a finish time counts as done.
_UNSUCCESSFUL = frozenset({"cancelled", "canceled", "aborted", "failed", "abandoned", "rolled_back", "error"})
_WANTED = ("id", "key_id", "state", "started_at", "updated_at", "finished_at", "old_fingerprint",
           "new_fingerprint", "old_dead_at")


@dataclass(frozen=True)
class RotationEntry:
    id: int
    key_id: str
    key_label: str | None
    state: str
    started_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None
    old_key: str | None  # masked fingerprints only; the table never holds more
    new_key: str | None
    old_key_rejected_at: datetime | None  # when the exchange was seen refusing the old key

    @property
    def completed(self) -> bool:
        return self.finished_at is not None and self.state.lower() not in _UNSUCCESSFUL

    @property
    def in_progress(self) -> bool:
        return self.finished_at is None


def read_rotations(db: object, labels: dict[str, str]) -> list[RotationEntry]:
    """Every rotation, newest first. ``db`` is a ``store.database.Database``; a missing table gives ``[]``."""
    try:
        cols = {r["name"] for r in db.query("PRAGMA table_info(rotations)")}  # type: ignore[attr-defined]
        if not cols:
            return []
        select = ", ".join(c if c in cols else f"NULL AS {c}" for c in _WANTED)
        rows = db.query(f"SELECT {select} FROM rotations ORDER BY started_at DESC, id DESC")  # type: ignore[attr-defined]
    except sqlite3.Error as exc:
        log.warning("rotation history unreadable, report goes without it: %s", exc)
        return []
    out: list[RotationEntry] = []
    for r in rows:
        try:
            out.append(
                RotationEntry(
                    id=int(r["id"]),
                    key_id=str(r["key_id"]),
                    key_label=labels.get(str(r["key_id"])),
                    state=str(r["state"] or "unknown"),
                    started_at=_ts(r["started_at"]),
                    updated_at=_ts(r["updated_at"]),
                    finished_at=_ts(r["finished_at"]),
                    old_key=r["old_fingerprint"],
                    new_key=r["new_fingerprint"],
                    old_key_rejected_at=_ts(r["old_dead_at"]),
                )
            )
        except (TypeError, ValueError) as exc:
            log.warning("skipping unreadable rotation row %s: %s", r["id"], exc)
    return out


def _ts(value: object) -> datetime | None:
    if not value:
        return None
    return parse_iso(str(value))


def last_rotation_day(db: object, key_id: str) -> date | None:
    """The day the key's latest completed rotation finished (None: never rotated). The rules read it: sharings
    that had ended by then were sharings of the replaced key (``RuleContext.rotated_on``)."""
    try:
        rows = db.query(  # type: ignore[attr-defined]
            "SELECT state, finished_at FROM rotations WHERE key_id = ? AND finished_at IS NOT NULL", (key_id,))
    except sqlite3.Error as exc:
        log.warning("rotation history unreadable: %s", exc)
        return None
    days = [at.date() for r in rows
            if str(r["state"] or "").lower() not in _UNSUCCESSFUL and (at := _ts(r["finished_at"])) is not None]
    return max(days) if days else None
