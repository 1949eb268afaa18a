"""The rotation journal: every rotation's state and every step it took. Core defines what it holds and the
interface (``JournalStore``); the SQL lives in ``keyhygiene/store/rotation_journal.py``.

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

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from keyhygiene.core.models import Credentials, KeyProfile, KeyRecord
from keyhygiene.core.rotation.slots import CURRENT, PENDING  # noqa: F401 - re-exported: the journal's slots
from keyhygiene.core.rotation.states import Action, Phase, Step
from keyhygiene.core.timeutil import iso

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


@dataclass(frozen=True)
class KeyUpdate:
    """What RECORD writes in one transaction with its journal entry: the entry now describes the new key, the old
    key's sharings end on ``day``, the kept consumers' sharings start on it, and the new key's test is its first
    inspection."""

    key_id: str
    fingerprint: str
    digest: str
    created_at: datetime
    day: date
    kept: tuple[str, ...]  # consumer ids (exposure service strings) that get the new key
    profile: KeyProfile | None
    tested_at: str


class JournalStore(Protocol):
    """Reads and writes rotations and their journal entries. ``done`` commits the entry with the state change it
    stands for; the hook (``env_crash_hook``) runs after each committed begin/done."""

    def get(self, rotation_id: int) -> Rotation: ...

    def open_for(self, key_id: str) -> Rotation | None: ...

    def open_rotations(self) -> list[Rotation]: ...

    def entries(self, rotation_id: int) -> list[JournalEntry]: ...

    def interrupted(self, rotation_id: int) -> JournalEntry | None: ...

    def start(self, key_id: str, old_fingerprint: str, state: Step, data: dict[str, Any]) -> Rotation: ...

    def begin(self, rotation_id: int, action: Action, detail: dict[str, Any] | None = None) -> None: ...

    def done(self, rotation_id: int, action: Action, detail: dict[str, Any] | None = None, *,
             state: Step | None = None, data: dict[str, Any] | None = None,
             columns: dict[str, Any] | None = None, record: KeyUpdate | None = None) -> Rotation: ...

    def note(self, rotation_id: int, action: Action, detail: dict[str, Any],
             data: dict[str, Any] | None = None) -> Rotation: ...

    def save_data(self, rotation_id: int, data: dict[str, Any]) -> Rotation: ...

    def history(self, key_id: str) -> list[RotationRecord]: ...


class SecretSlots(Protocol):
    """The keychain as a rotation uses it: one entry per key id and slot (CURRENT, PENDING). Blocking calls."""

    def get(self, key_id: str, slot: str = CURRENT) -> Credentials | None: ...

    def put(self, key_id: str, creds: Credentials, slot: str = CURRENT) -> None: ...

    def delete(self, key_id: str, slot: str = CURRENT) -> bool: ...


class RotationVault(Protocol):
    """What the machine reads and writes of the vault besides the journal."""

    @property
    def secrets(self) -> SecretSlots: ...

    def get_key(self, key_id: str) -> KeyRecord: ...

    def find_by_digest(self, digest: str) -> KeyRecord | None: ...

    def latest_inspection(self, key_id: str) -> tuple[datetime, KeyProfile] | None: ...

    def validate_credentials(self, exchange: str, creds: Credentials) -> None: ...

    def rotation_journal(self, hook: JournalHook | None = None) -> JournalStore: ...


def interrupted_entry(entries: list[JournalEntry]) -> JournalEntry | None:
    """The last ``begin`` with no ``done`` after it: the step a crash cut short, if any."""
    last_begin: JournalEntry | None = None
    for e in entries:
        if e.phase is Phase.BEGIN:
            last_begin = e
        elif e.phase is Phase.DONE and last_begin is not None and e.action is last_begin.action:
            last_begin = None
    return last_begin


def record_of(rot: Rotation) -> RotationRecord:
    """A rotation as history shows it."""
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
