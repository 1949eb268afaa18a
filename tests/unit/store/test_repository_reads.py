"""The key and exposure reads take named columns by position from plain tuples (issue 21: the window reads every key
before its first frame). They must give exactly the records the earlier ``SELECT *`` + ``sqlite3.Row`` reads gave,
and keep giving them when a migration adds a column or a table is rebuilt in another column order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from keyhygiene.core.models import Exposure, KeyRecord
from keyhygiene.core.timeutil import parse_iso
from keyhygiene.store import repository
from keyhygiene.store.database import Database
from keyhygiene.store.repository import ADDING, Repository

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


# ---- the reads as they were before (SELECT * and sqlite3.Row by name): the reference ----------------------------
def _old_key(r: sqlite3.Row) -> KeyRecord:
    added = parse_iso(r["added_at"])
    assert added is not None
    return KeyRecord(
        id=r["id"], exchange=r["exchange"], label=r["label"], purpose=r["purpose"], fingerprint=r["fingerprint"],
        key_sha256=r["key_sha256"], created_at=parse_iso(r["created_at"]), added_at=added,
        updated_at=parse_iso(r["updated_at"]) or added, state=r["state"],
        declared_permissions=json.loads(r["declared_permissions"]) if r["declared_permissions"] else None,
        note=r["note"],
    )


def _old_attach(db: Database, keys: list[KeyRecord]) -> list[KeyRecord]:
    by_id = {k.id: k for k in keys}
    for r in db.query("SELECT * FROM exposures ORDER BY id"):
        k = by_id.get(r["key_id"])
        if k is not None:
            k.exposures.append(Exposure(
                id=r["id"], service=r["service"],
                shared_at=date.fromisoformat(r["shared_at"]) if r["shared_at"] else None,
                revoked_at=date.fromisoformat(r["revoked_at"]) if r["revoked_at"] else None, note=r["note"]))
    for r in db.query("SELECT key_id, MAX(COALESCE(finished_at, updated_at)) AS at FROM rotations"
                      " WHERE new_fingerprint IS NOT NULL GROUP BY key_id"):
        k = by_id.get(r["key_id"])
        if k is not None:
            k.rotated_at = parse_iso(r["at"])
    return keys


def _old_list(db: Database) -> list[KeyRecord]:
    rows = db.query(f"SELECT * FROM keys WHERE state != '{ADDING}' ORDER BY exchange, label, id")
    return _old_attach(db, [_old_key(r) for r in rows])


def _old_adding(db: Database) -> list[KeyRecord]:
    rows = db.query("SELECT * FROM keys WHERE state = ? ORDER BY added_at, id", (ADDING,))
    return _old_attach(db, [_old_key(r) for r in rows])


# ---- a vault with every kind of value the reads handle ----------------------------------------------------------
def _fill(repo: Repository) -> None:
    recs = [
        KeyRecord(id="k1", exchange="binance", label="Main", purpose="trading", fingerprint="ABCD…WXYZ",
                  key_sha256="d1", created_at=datetime(2023, 1, 2, tzinfo=UTC), added_at=T0, updated_at=T0,
                  declared_permissions=["read", "spot"], note="bot on the NAS · ünïcode",
                  exposures=[Exposure("3commas", date(2024, 1, 1)),
                             Exposure("cointracking", date(2023, 5, 1), date(2024, 2, 1), note="ended")]),
        # NULLs everywhere a column allows them, and an empty declared list (not the same as none declared).
        KeyRecord(id="k2", exchange="binance", label="Alt", purpose="bot", fingerprint="EFGH…1234", key_sha256="d2",
                  created_at=None, added_at=T0, updated_at=T0, declared_permissions=[], note=None,
                  exposures=[Exposure("file:/home/u/bot.env")]),
        KeyRecord(id="k3", exchange="kraken", label="Tax", purpose="tax", fingerprint="IJKL…5678", key_sha256="d3",
                  created_at=None, added_at=T0, updated_at=T0, state="revoked"),
        KeyRecord(id="k4", exchange="okx", label="Half-added", purpose="other", fingerprint="MNOP…9012",
                  key_sha256="d4", created_at=None, added_at=T0, updated_at=T0, state=ADDING,
                  exposures=[Exposure("koinly")]),
        KeyRecord(id="k5", exchange="kraken", label="Tax", purpose="read-only", fingerprint="QRST…3456",
                  key_sha256="d5", created_at=T0, added_at=T0, updated_at=T0, declared_permissions=["read"]),
    ]
    with repo.db.transaction() as c:
        for rec in recs:
            repo.insert_key(c, rec)
        c.execute("UPDATE keys SET updated_at = '2024-03-02 08:00:00+01:00' WHERE id = 'k5'")  # the general form
        rot = ("INSERT INTO rotations(key_id, state, started_at, updated_at, finished_at, old_fingerprint,"
               " new_fingerprint) VALUES (?,?,?,?,?,?,?)")
        c.execute(rot, ("k1", "done", "2024-02-01T00:00:00Z", "2024-02-01T00:05:00Z", "2024-02-01T00:06:00Z",
                        "OLD…1", "ABCD…WXYZ"))
        c.execute(rot, ("k1", "done", "2024-02-20T00:00:00Z", "2024-02-20T00:05:00Z", "2024-02-20T00:07:00Z",
                        "OLD…2", "ABCD…WXYZ"))
        # Recorded its new key, not finished: its updated_at counts; one without a new key does not count.
        c.execute(rot, ("k2", "record", "2024-02-10T00:00:00Z", "2024-02-10T00:05:00Z", None, "OLD…3", "EFGH…1234"))
        c.execute(rot, ("k3", "cancelled", "2024-02-11T00:00:00Z", "2024-02-11T00:01:00Z", "2024-02-11T00:02:00Z",
                        "IJKL…5678", None))


@pytest.fixture
def repo(data_dir: Path) -> Iterator[Repository]:
    db = Database(data_dir / "keyhygiene.sqlite3")
    r = Repository(db)
    _fill(r)
    yield r
    db.close()


def _assert_same_as_before(repo: Repository) -> None:
    db = repo.db
    old = _old_list(db)
    assert repo.list_keys() == old
    assert [k.id for k in old] == ["k2", "k1", "k3", "k5"]  # exchange, label, id; the half-added one left out
    for rec in old:
        assert repo.get_key(rec.id) == rec
        assert repo.find_by_digest(rec.key_sha256) == rec
    assert repo.unfinished_adds() == _old_adding(db) and [k.id for k in repo.unfinished_adds()] == ["k4"]
    assert repo.get_key("k4") == _old_adding(db)[0]
    assert repo.get_key("nope") is None and repo.find_by_digest("nope") is None


def test_the_reads_give_the_records_the_row_by_name_reads_gave(repo: Repository) -> None:
    _assert_same_as_before(repo)
    by_id = {k.id: k for k in repo.list_keys()}
    # What the comparison covers: NULLs, exposures (ended, file, with note), rotated_at of each kind, permissions.
    assert by_id["k1"].declared_permissions == ["read", "spot"] and by_id["k2"].declared_permissions == []
    assert by_id["k3"].declared_permissions is None
    assert by_id["k2"].created_at is None and by_id["k2"].note is None
    assert [(e.service, e.revoked_at) for e in by_id["k1"].exposures] == [("3commas", None),
                                                                          ("cointracking", date(2024, 2, 1))]
    assert by_id["k1"].rotated_at == datetime(2024, 2, 20, 0, 7, tzinfo=UTC)
    assert by_id["k2"].rotated_at == datetime(2024, 2, 10, 0, 5, tzinfo=UTC)
    assert by_id["k3"].rotated_at is None and by_id["k3"].state == "revoked"
    assert by_id["k5"].updated_at == datetime(2024, 3, 2, 7, 0, tzinfo=UTC)


def test_keyrecord_takes_its_fields_in_the_order_the_key_read_passes_them() -> None:
    # _key_from_row passes KeyRecord's fields by position: a field moved in KeyRecord must fail here, not swap.
    columns = [c.strip() for c in repository._KEY_COLUMNS.split(",")]
    assert [f.name for f in fields(KeyRecord)][:len(columns)] == columns
    assert repository._EXPOSURE_COLUMNS.split(", ") == ["id", "key_id", "service", "shared_at", "revoked_at", "note"]


def test_a_column_added_or_a_table_rebuilt_in_another_order_changes_no_record(data_dir: Path) -> None:
    path = data_dir / "keyhygiene.sqlite3"
    db = Database(path)
    try:
        _fill(Repository(db))
        before = Repository(db).list_keys()
    finally:
        db.close()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA foreign_keys = OFF")  # the rebuild must not cascade to the exposures
        raw.execute("BEGIN")
        raw.execute("ALTER TABLE keys ADD COLUMN extra TEXT DEFAULT 'x'")
        raw.execute("CREATE TABLE keys2 (note TEXT, declared_permissions TEXT, extra TEXT, state TEXT NOT NULL,"
                    " updated_at TEXT NOT NULL, added_at TEXT NOT NULL, created_at TEXT, key_sha256 TEXT NOT NULL"
                    " UNIQUE, fingerprint TEXT NOT NULL, purpose TEXT NOT NULL, label TEXT NOT NULL,"
                    " exchange TEXT NOT NULL, id TEXT PRIMARY KEY)")
        raw.execute("INSERT INTO keys2(note, declared_permissions, extra, state, updated_at, added_at, created_at,"
                    " key_sha256, fingerprint, purpose, label, exchange, id) SELECT note, declared_permissions,"
                    " extra, state, updated_at, added_at, created_at, key_sha256, fingerprint, purpose, label,"
                    " exchange, id FROM keys")
        raw.execute("DROP TABLE keys")
        raw.execute("ALTER TABLE keys2 RENAME TO keys")
        raw.execute("CREATE TABLE exposures2 (note TEXT, revoked_at TEXT, shared_at TEXT, service TEXT NOT NULL,"
                    " key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE, id INTEGER PRIMARY KEY)")
        raw.execute("INSERT INTO exposures2(note, revoked_at, shared_at, service, key_id, id)"
                    " SELECT note, revoked_at, shared_at, service, key_id, id FROM exposures")
        raw.execute("DROP TABLE exposures")
        raw.execute("ALTER TABLE exposures2 RENAME TO exposures")
        raw.execute("COMMIT")
    finally:
        raw.close()
    db = Database(path)
    try:
        repo = Repository(db)
        assert repo.list_keys() == before
        _assert_same_as_before(repo)
    finally:
        db.close()
