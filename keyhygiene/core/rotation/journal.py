"""The rotation journal: every rotation's state and every step it took, in the metadata store.

A step with a side effect outside the database (keychain, exchange) is journalled twice: a ``begin`` entry
committed before the effect, and a ``done`` entry committed after it *in the same transaction as the state
change*. So after a crash the state column says which step is next, and an unmatched ``begin`` says that step
was interrupted part-way; every step is written to be safe to run again.

Rotation rows hold masked fingerprints, salted digests and inspection profiles only: never a secret.

Test hook: when the environment variable ``KEYHYGIENE_TEST_CRASH_AT`` is set to ``<action>:<phase>`` (for
example ``store_pending:begin``), the process kills itself with SIGKILL right after that journal entry is
committed. It exists so the test suite can prove that a rotation killed at any journalled point resumes with
nothing lost. It is read only when set and does nothing otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keyhygiene.core.rotation.states import Action, Phase, Step
from keyhygiene.core.timeutil import iso, parse_iso, utcnow
from keyhygiene.store.database import Database

CRASH_ENV = "KEYHYGIENE_TEST_CRASH_AT"

JournalHook = Callable[[Action, Phase], None]


class RotationInProgress(Exception):
    """The key already has an unfinished rotation (one per key, enforced by a unique index)."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            f"Key {key_id} already has a rotation in progress: resume it (keyhygiene rotate {key_id} --resume) "
            "or cancel it first."
        )


def env_crash_hook(action: Action, phase: Phase) -> None:
    """The ``KEYHYGIENE_TEST_CRASH_AT`` test hook (see the module docstring)."""
    target = os.environ.get(CRASH_ENV)
    if not target or target != f"{action.value}:{phase.value}":
        return
    # A real SIGKILL, as `kill -9` from outside would deliver: no finally blocks, no atexit, no flush.
    kill = getattr(signal, "SIGKILL", None)
    if kill is not None:
        os.kill(os.getpid(), kill)
    os._exit(137)  # platforms without SIGKILL (Windows): as abrupt as Python allows


@dataclass
class JournalEntry:
    id: int
    at: datetime
    action: Action
    phase: Phase
    detail: dict[str, Any]


@dataclass
class Rotation:
    """One rotation's row. ``data`` carries what the steps learned (profiles, verdicts, checklist)."""

    id: int
    key_id: str
    state: Step
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    old_fingerprint: str
    new_fingerprint: str | None
    old_dead_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True)
class RotationRecord:
    """A rotation as history shows it: the detail pane and the report."""

    key_id: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    old_fingerprint: str
    new_fingerprint: str | None
    old_dead_at: datetime | None
    old_dead_status: str | None  # the exchange's answer that counted as "dead" (invalid_key, rejected, …)
    old_dead_certain: bool | None  # False when that answer cannot be told apart from an IP block

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "state": self.state,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "old_key": self.old_fingerprint,
            "new_key": self.new_fingerprint,
            "old_key_dead_at": iso(self.old_dead_at),
            "old_key_dead_status": self.old_dead_status,
            "old_key_dead_certain": self.old_dead_certain,
        }


class Journal:
    """Reads and writes ``rotations`` and ``rotation_journal``. ``hook`` runs after each committed entry."""

    def __init__(self, db: Database, hook: JournalHook | None = env_crash_hook) -> None:
        self.db = db
        self.hook = hook

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
        rows = self.db.query(
            "SELECT * FROM rotation_journal WHERE rotation_id = ? ORDER BY id", (rotation_id,)
        )
        return [_entry(r) for r in rows]

    def interrupted(self, rotation_id: int) -> JournalEntry | None:
        """The last ``begin`` with no ``done`` after it: the step a crash cut short, if any."""
        last_begin: JournalEntry | None = None
        for e in self.entries(rotation_id):
            if e.phase is Phase.BEGIN:
                last_begin = e
            elif e.phase is Phase.DONE and last_begin is not None and e.action is last_begin.action:
                last_begin = None
        return last_begin

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
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> Rotation:
        """Commit the ``done`` entry together with the state change it stands for (and ``also``'s writes)."""
        with self.db.transaction() as c:
            self._insert(c, rotation_id, action, Phase.DONE, detail)
            self._update(c, rotation_id, state=state, data=data, columns=columns)
            if also is not None:
                also(c)
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


def history(db: Database, key_id: str) -> list[RotationRecord]:
    """Every rotation of one key, newest first (finished, cancelled and open)."""
    rows = db.query("SELECT * FROM rotations WHERE key_id = ? ORDER BY started_at DESC, id DESC", (key_id,))
    return [_record(r) for r in rows]


def all_history(db: Database) -> dict[str, list[RotationRecord]]:
    """Rotations of every key, newest first per key: for the report."""
    out: dict[str, list[RotationRecord]] = {}
    for r in db.query("SELECT * FROM rotations ORDER BY started_at DESC, id DESC"):
        out.setdefault(r["key_id"], []).append(_record(r))
    return out


def _record(r: sqlite3.Row) -> RotationRecord:
    rot = _rotation(r)
    verify = rot.data.get("verify") or {}
    return RotationRecord(
        key_id=rot.key_id,
        state=rot.state.value,
        started_at=rot.started_at,
        finished_at=rot.finished_at,
        old_fingerprint=rot.old_fingerprint,
        new_fingerprint=rot.new_fingerprint,
        old_dead_at=rot.old_dead_at,
        old_dead_status=verify.get("status") if rot.old_dead_at else None,
        old_dead_certain=verify.get("certain") if rot.old_dead_at else None,
    )


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
