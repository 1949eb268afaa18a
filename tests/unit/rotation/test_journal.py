"""The journal: rows, the begin/done pairing, the one-open-rotation rule, history, and the crash test hook."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from keyhygiene.core.rotation import journal as journal_mod
from keyhygiene.core.rotation.journal import CRASH_ENV, RotationInProgress
from keyhygiene.core.rotation.states import Action, Phase, Step
from keyhygiene.store.database import Database
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.rotation_journal import all_history, history


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    d = Database(tmp_path / "j.sqlite3")
    with d.transaction() as c:
        for kid in ("k1", "k2"):
            c.execute(
                "INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, added_at, updated_at)"
                " VALUES (?, 'bybit', 'bot', 'bot', 'AAAA…ZZZZ', ?, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
                (kid, "d" + kid),
            )
    yield d
    d.close()


def test_start_begin_done_and_interrupted(db: Database) -> None:
    seen: list[tuple[Action, Phase]] = []
    j = Journal(db, hook=lambda a, p: seen.append((a, p)))
    rot = j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {"x": 1})
    assert rot.state is Step.NEW_KEY and rot.open and rot.data == {"x": 1}
    assert j.interrupted(rot.id) is None
    j.begin(rot.id, Action.STORE_PENDING, {"fingerprint": "BBBB…YYYY"})
    cut = j.interrupted(rot.id)
    assert cut is not None and cut.action is Action.STORE_PENDING and cut.detail == {"fingerprint": "BBBB…YYYY"}
    rot = j.done(rot.id, Action.STORE_PENDING, state=Step.TEST_NEW, data={"x": 2})
    assert rot.state is Step.TEST_NEW and rot.data == {"x": 2}
    assert j.interrupted(rot.id) is None
    j.note(rot.id, Action.TEST_NEW, {"verdict": "refused"})
    assert j.interrupted(rot.id) is None  # a note is never a resume point
    assert seen == [(Action.START, Phase.DONE), (Action.STORE_PENDING, Phase.BEGIN), (Action.STORE_PENDING, Phase.DONE)]
    assert [e.phase for e in j.entries(rot.id)] == [Phase.DONE, Phase.BEGIN, Phase.DONE, Phase.NOTE]


def test_done_writes_its_companion_changes_atomically(db: Database) -> None:
    j = Journal(db, hook=None)
    rot = j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {})

    # RECORD's key update runs in the entry's transaction: a failure there (here: a key that is not in the
    # keys table, so the inspection row breaks its foreign key) leaves neither the entry nor the state change.
    from datetime import date, datetime

    from keyhygiene.core.models import KeyProfile
    from keyhygiene.core.rotation.journal import KeyUpdate

    bad = KeyUpdate(key_id="nope", fingerprint="NEW…", digest="d", created_at=datetime(2026, 1, 1),
                    day=date(2026, 1, 1), kept=("3commas",), profile=KeyProfile(exchange="bybit", key="NEW…"),
                    tested_at="x")
    with pytest.raises(sqlite3.IntegrityError):
        j.done(rot.id, Action.RECORD, state=Step.DONE, record=bad)
    assert j.get(rot.id).state is Step.NEW_KEY
    assert [e.action for e in j.entries(rot.id)] == [Action.START]
    assert db.query("SELECT label FROM keys WHERE id = 'k1'")[0]["label"] == "bot"
    with pytest.raises(ValueError):
        j.done(rot.id, Action.RECORD, columns={"key_id": "k2"})


def test_one_open_rotation_per_key(db: Database) -> None:
    j = Journal(db, hook=None)
    rot = j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {})
    with pytest.raises(RotationInProgress, match="k1 --resume"):
        j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {})
    j.start("k2", "AAAA…ZZZZ", Step.NEW_KEY, {})  # other keys are independent
    assert [r.key_id for r in j.open_rotations()] == ["k1", "k2"]
    j.done(rot.id, Action.DISCARD_PENDING, state=Step.CANCELLED, columns={"finished_at": rot.started_at})
    assert j.open_for("k1") is None
    assert j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {}).open


def test_history_newest_first_with_the_dead_check(db: Database) -> None:
    j = Journal(db, hook=None)
    first = j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {})
    j.done(first.id, Action.DISCARD_PENDING, state=Step.CANCELLED, columns={"finished_at": first.started_at})
    second = j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {"verify": {"status": "invalid_key", "certain": True}})
    j.done(second.id, Action.RECORD, state=Step.DONE,
           columns={"old_dead_at": second.started_at, "finished_at": second.started_at, "new_fingerprint": "BBBB…YYYY"})
    recs = history(db, "k1")
    assert [r.state for r in recs] == ["done", "cancelled"]
    assert recs[0].to_json() == {
        "key_id": "k1", "state": "done", "started_at": recs[0].to_json()["started_at"],
        "finished_at": recs[0].to_json()["finished_at"], "old_key": "AAAA…ZZZZ", "new_key": "BBBB…YYYY",
        "old_key_dead_at": recs[0].to_json()["old_key_dead_at"], "old_key_dead_status": "invalid_key",
        "old_key_dead_certain": True,
    }
    assert recs[1].old_dead_status is None and recs[1].new_fingerprint is None
    assert set(all_history(db)) == {"k1"} and len(all_history(db)["k1"]) == 2
    assert history(db, "k2") == []


def test_crash_hook_fires_only_at_its_point(monkeypatch: pytest.MonkeyPatch) -> None:
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(journal_mod.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.delenv(CRASH_ENV, raising=False)
    journal_mod.env_crash_hook(Action.PROMOTE, Phase.BEGIN)
    assert kills == []  # unset: does nothing
    monkeypatch.setenv(CRASH_ENV, "promote:done")
    journal_mod.env_crash_hook(Action.PROMOTE, Phase.BEGIN)
    assert kills == []
    monkeypatch.setattr(journal_mod.os, "_exit", lambda code: kills.append((-1, code)))
    journal_mod.env_crash_hook(Action.PROMOTE, Phase.DONE)
    assert kills[0] == (journal_mod.os.getpid(), signal.SIGKILL)


def test_crash_hook_runs_after_the_commit(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    class Killed(BaseException):
        pass

    def kill(action: Action, phase: Phase) -> None:
        raise Killed

    j = Journal(db, hook=kill)
    with pytest.raises(Killed):
        j.start("k1", "AAAA…ZZZZ", Step.NEW_KEY, {})
    rot = Journal(db, hook=None).open_for("k1")
    assert rot is not None  # what the hook interrupts is already safely on disk
