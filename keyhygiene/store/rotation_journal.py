"""The rotation journal in SQLite: core's ``JournalStore`` (keyhygiene/core/rotation/journal.py) on the ``rotations``
and ``rotation_journal`` tables.

A step with a side effect outside the database is journalled twice: a ``begin`` entry committed before the effect,
and a ``done`` entry committed after it *in the same transaction as the state change* (and, for RECORD, with the
key entry's own update). Rows hold masked fingerprints, salted digests and inspection profiles only: never a secret.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from keyhygiene.core.models import Exposure
from keyhygiene.core.rotation.journal import (
    JournalEntry,
    JournalHook,
    KeyUpdate,
    Rotation,
    RotationInProgress,
    RotationRecord,
    env_crash_hook,
    interrupted_entry,
    record_of,
)
from keyhygiene.core.rotation.states import Action, Phase, Step
from keyhygiene.core.timeutil import iso, parse_iso, utcnow
from keyhygiene.store.database import Database
from keyhygiene.store.repository import Repository


class SqliteJournal:
    """Reads and writes ``rotations`` and ``rotation_journal``. ``hook`` runs after each committed entry."""

    def __init__(self, db: Database, hook: JournalHook | None = env_crash_hook, repo: Repository | None = None
                 ) -> None:
        self.db = db
        self.hook = hook
        # The vault's own repository: the team vault's marks the key entry RECORD changes for publishing.
        self.repo = repo or Repository(db)

    # ---- reading ------------------------------------------------------------------------------------------
    def get(self, rotation_id: int) -> Rotation:
        rows = self.db.query("SELECT * FROM rotations WHERE id = ?", (rotation_id,))
        if not rows:
            raise LookupError(f"no rotation {rotation_id}")
        return _rotation(rows[0])

    def open_for(self, key_id: str) -> Rotation | None:
        rows = self.db.query("SELECT * FROM rotations WHERE key_id = ? AND finished_at IS NULL", (key_id,))
        return _rotation(rows[0]) if rows else None

    def open_rotations(self) -> list[Rotation]:
        """Unfinished rotations, oldest first: the main window's "Resume" banner."""
        rows = self.db.query("SELECT * FROM rotations WHERE finished_at IS NULL ORDER BY started_at, id")
        return [_rotation(r) for r in rows]

    def entries(self, rotation_id: int) -> list[JournalEntry]:
        rows = self.db.query("SELECT * FROM rotation_journal WHERE rotation_id = ? ORDER BY id", (rotation_id,))
        return [_entry(r) for r in rows]

    def interrupted(self, rotation_id: int) -> JournalEntry | None:
        return interrupted_entry(self.entries(rotation_id))

    def history(self, key_id: str) -> list[RotationRecord]:
        return history(self.db, key_id)

    # ---- writing ------------------------------------------------------------------------------------------
    def start(self, key_id: str, old_fingerprint: str, state: Step, data: dict[str, Any]) -> Rotation:
        now = iso(utcnow())
        try:
            with self.db.transaction() as c:
                cur = c.execute(
                    "INSERT INTO rotations(key_id, state, started_at, updated_at, old_fingerprint, data)"
                    " VALUES (?,?,?,?,?,?)",
                    (key_id, state.value, now, now, old_fingerprint, _dump(data)),
                )
                rid = int(cur.lastrowid or 0)
                self._insert(c, rid, Action.START, Phase.DONE, {"state": state.value})
        except sqlite3.IntegrityError:
            raise RotationInProgress(key_id) from None
        self._after(Action.START, Phase.DONE)
        return self.get(rid)

    def begin(self, rotation_id: int, action: Action, detail: dict[str, Any] | None = None) -> None:
        with self.db.transaction() as c:
            self._insert(c, rotation_id, action, Phase.BEGIN, detail)
            c.execute("UPDATE rotations SET updated_at = ? WHERE id = ?", (iso(utcnow()), rotation_id))
        self._after(action, Phase.BEGIN)

    def done(
        self,
        rotation_id: int,
        action: Action,
        detail: dict[str, Any] | None = None,
        *,
        state: Step | None = None,
        data: dict[str, Any] | None = None,
        columns: dict[str, Any] | None = None,
        record: KeyUpdate | None = None,
    ) -> Rotation:
        """Commit the ``done`` entry together with the state change it stands for (and the key entry's update)."""
        with self.db.transaction() as c:
            self._insert(c, rotation_id, action, Phase.DONE, detail)
            self._update(c, rotation_id, state=state, data=data, columns=columns)
            if record is not None:
                _record_key(c, self.repo, record)
        self._after(action, Phase.DONE)
        return self.get(rotation_id)

    def note(self, rotation_id: int, action: Action, detail: dict[str, Any], data: dict[str, Any] | None = None
             ) -> Rotation:
        """An outcome that does not move the rotation (a refusal, a timeout): recorded, never a resume point."""
        with self.db.transaction() as c:
            self._insert(c, rotation_id, action, Phase.NOTE, detail)
            self._update(c, rotation_id, data=data)
        return self.get(rotation_id)

    def save_data(self, rotation_id: int, data: dict[str, Any]) -> Rotation:
        """Input that is not a step (a ticked checklist item): kept so a resumed wizard shows it again."""
        with self.db.transaction() as c:
            self._update(c, rotation_id, data=data)
        return self.get(rotation_id)

    # ---- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _insert(c: sqlite3.Connection, rid: int, action: Action, phase: Phase, detail: dict[str, Any] | None
                ) -> None:
        c.execute(
            "INSERT INTO rotation_journal(rotation_id, at, step, phase, detail) VALUES (?,?,?,?,?)",
            (rid, iso(utcnow()), action.value, phase.value, _dump(detail) if detail else None),
        )

    @staticmethod
    def _update(c: sqlite3.Connection, rid: int, *, state: Step | None = None, data: dict[str, Any] | None = None,
                columns: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"updated_at": iso(utcnow())}
        if state is not None:
            values["state"] = state.value
        if data is not None:
            values["data"] = _dump(data)
        for k, v in (columns or {}).items():
            if k not in {"new_fingerprint", "old_dead_at", "finished_at"}:
                raise ValueError(f"cannot set rotations.{k}")
            values[k] = iso(v) if isinstance(v, datetime) else v
        sets = ", ".join(f"{k} = :{k}" for k in values)
        c.execute(f"UPDATE rotations SET {sets} WHERE id = :id", {**values, "id": rid})

    def _after(self, action: Action, phase: Phase) -> None:
        if self.hook is not None:
            self.hook(action, phase)


def _record_key(c: sqlite3.Connection, repo: Repository, u: KeyUpdate) -> None:
    """RECORD: the entry describes the new key; the old key's sharings end; the kept consumers get the new key."""
    repo.update_key(c, u.key_id, fingerprint=u.fingerprint, key_sha256=u.digest, created_at=u.created_at)
    repo.end_all_exposures(c, u.key_id, u.day)
    for service in u.kept:
        repo.insert_exposure(c, u.key_id, Exposure(service=service, shared_at=u.day))
    if u.profile is not None:
        # The new key's test is its first inspection, so the detail pane does not show the old key's profile.
        c.execute("INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                  (u.key_id, u.tested_at, u.profile.status.value, json.dumps(u.profile.to_json())))


def history(db: Database, key_id: str) -> list[RotationRecord]:
    """Every rotation of one key, newest first (finished, cancelled and open)."""
    rows = db.query("SELECT * FROM rotations WHERE key_id = ? ORDER BY started_at DESC, id DESC", (key_id,))
    return [record_of(_rotation(r)) for r in rows]


def all_history(db: Database) -> dict[str, list[RotationRecord]]:
    """Rotations of every key, newest first per key: for the report."""
    out: dict[str, list[RotationRecord]] = {}
    for r in db.query("SELECT * FROM rotations ORDER BY started_at DESC, id DESC"):
        out.setdefault(r["key_id"], []).append(record_of(_rotation(r)))
    return out


def _rotation(r: sqlite3.Row) -> Rotation:
    started = parse_iso(r["started_at"])
    assert started is not None
    return Rotation(
        id=int(r["id"]),
        key_id=r["key_id"],
        state=Step(r["state"]),
        started_at=started,
        updated_at=parse_iso(r["updated_at"]) or started,
        finished_at=parse_iso(r["finished_at"]),
        old_fingerprint=r["old_fingerprint"],
        new_fingerprint=r["new_fingerprint"],
        old_dead_at=parse_iso(r["old_dead_at"]),
        data=json.loads(r["data"] or "{}"),
    )


def _entry(r: sqlite3.Row) -> JournalEntry:
    at = parse_iso(r["at"])
    assert at is not None
    return JournalEntry(
        id=int(r["id"]),
        at=at,
        action=Action(r["step"]),
        phase=Phase(r["phase"]),
        detail=json.loads(r["detail"]) if r["detail"] else {},
    )


def _dump(d: dict[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"))
