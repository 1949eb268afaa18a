"""Migration 2 (rotation indexes) applied to a database written at schema 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from keyhygiene.store import database
from keyhygiene.store.database import Database


def make_schema_1(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        database._m1(conn)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, added_at, updated_at)"
            " VALUES ('k1', 'bybit', 'bot', 'bot', 'AAAA…ZZZZ', 'd1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"
        )
        for rid, updated in ((1, "2024-01-02T00:00:00Z"), (2, "2024-01-03T00:00:00Z")):
            conn.execute(
                "INSERT INTO rotations(id, key_id, state, started_at, updated_at, old_fingerprint)"
                " VALUES (?, 'k1', 'test_new', '2024-01-01T00:00:00Z', ?, 'AAAA…ZZZZ')",
                (rid, updated),
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_schema_1_migrates_to_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    make_schema_1(path)
    db = Database(path)
    try:
        assert db.query("PRAGMA user_version")[0][0] == database.SCHEMA_VERSION >= 2
        rows = {r["id"]: r for r in db.query("SELECT id, state, finished_at FROM rotations")}
        # Two open rotations of one key cannot coexist any more: the older is closed, the newer stays open.
        assert rows[1]["state"] == "cancelled" and rows[1]["finished_at"] == "2024-01-02T00:00:00Z"
        assert rows[2]["finished_at"] is None
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as c:
            c.execute("INSERT INTO rotations(key_id, state, started_at, updated_at, old_fingerprint)"
                      " VALUES ('k1', 'new_key', 'x', 'x', 'f')")
        # A finished rotation does not block a new one.
        with db.transaction() as c:
            c.execute("UPDATE rotations SET finished_at = 'y' WHERE id = 2")
            c.execute("INSERT INTO rotations(key_id, state, started_at, updated_at, old_fingerprint)"
                      " VALUES ('k1', 'new_key', 'x', 'x', 'f')")
        names = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"rotations_one_open", "rotations_key", "rotation_journal_rotation"} <= names
    finally:
        db.close()
