"""SQLite metadata store: pragmas, migrations by user_version, corrupt / read-only / unwritable files."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keyhygiene.store import database
from keyhygiene.store.database import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    DatabaseCorrupt,
    DatabaseError,
)
from tests.helpers.filesystem import make_unwritable, open_sqlite_read_only


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / "keyhygiene.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    d = Database(db_path)
    yield d
    d.close()


def _schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
        return [(t, n, " ".join((s or "").split())) for t, n, s in rows]
    finally:
        conn.close()


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _build_at(path: Path, version: int) -> None:
    """A database exactly as an older app left it: migrations 1..version applied, user_version = version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for m in MIGRATIONS[:version]:
            conn.execute("BEGIN")
            m(conn)
            conn.execute("COMMIT")
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.close()


# ---- a fresh database ------------------------------------------------------------------------------------
def test_fresh_database_is_at_the_current_schema_with_wal_and_foreign_keys(db: Database, db_path: Path) -> None:
    assert _user_version(db_path) == SCHEMA_VERSION == len(MIGRATIONS)
    assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    assert db.query("PRAGMA foreign_keys")[0][0] == 1
    tables = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "keys", "exposures", "inspections", "rotations", "rotation_journal", "settings"} <= tables


def test_reopening_does_not_migrate_again(db_path: Path) -> None:
    Database(db_path).close()
    before = _schema(db_path)
    Database(db_path).close()
    assert _schema(db_path) == before
    assert _user_version(db_path) == SCHEMA_VERSION


# ---- migrations ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", range(1, SCHEMA_VERSION + 1))
def test_each_migration_from_the_previous_schema_gives_the_fresh_schema(tmp_path: Path, target: int) -> None:
    """Build the schema at version target-1 the way an older app did, open it, and compare with a fresh one."""
    fresh, old = tmp_path / "fresh.sqlite3", tmp_path / "old.sqlite3"
    Database(fresh).close()
    _build_at(old, target - 1)
    assert _user_version(old) == target - 1
    Database(old).close()
    assert _user_version(old) == SCHEMA_VERSION
    assert _schema(old) == _schema(fresh)


def test_migration_1_creates_the_keys_schema_with_cascades(tmp_path: Path) -> None:
    path = tmp_path / "m1.sqlite3"
    _build_at(path, 0)
    d = Database(path)
    try:
        cols = {r["name"] for r in d.query("PRAGMA table_info(keys)")}
        assert {"id", "exchange", "label", "purpose", "fingerprint", "key_sha256", "created_at", "added_at",
                "updated_at", "state"} <= cols
        exp_cols = {r["name"] for r in d.query("PRAGMA table_info(exposures)")}
        assert {"key_id", "service", "shared_at", "revoked_at", "note"} <= exp_cols
        with d.transaction() as c:
            c.execute("INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, added_at, updated_at)"
                      " VALUES ('k1', 'binance', 'l', 'other', 'ab…cd', 'h1', 'x', 'x')")
            c.execute("INSERT INTO exposures(key_id, service) VALUES ('k1', '3commas')")
            c.execute("INSERT INTO inspections(key_id, checked_at, status, profile) VALUES ('k1', 'x', 'ok', '{}')")
        with pytest.raises(sqlite3.IntegrityError), d.transaction() as c:  # one row per API key
            c.execute("INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, added_at, updated_at)"
                      " VALUES ('k2', 'binance', 'l', 'other', 'ab…cd', 'h1', 'x', 'x')")
        with pytest.raises(sqlite3.IntegrityError), d.transaction() as c:  # foreign keys are enforced
            c.execute("INSERT INTO exposures(key_id, service) VALUES ('nope', '3commas')")
        with d.transaction() as c:
            c.execute("DELETE FROM keys WHERE id = 'k1'")
        assert d.query("SELECT COUNT(*) FROM exposures")[0][0] == 0
        assert d.query("SELECT COUNT(*) FROM inspections")[0][0] == 0
    finally:
        d.close()


def test_a_failing_migration_rolls_back_and_leaves_the_file_as_it_was(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Database(db_path).close()

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        c.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(database, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(database, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    before = _schema(db_path)
    with pytest.raises(DatabaseError, match=f"could not be upgraded from schema {SCHEMA_VERSION}") as info:
        Database(db_path)
    assert not isinstance(info.value, DatabaseCorrupt)
    assert _user_version(db_path) == SCHEMA_VERSION
    assert _schema(db_path) == before
    assert not list(db_path.parent.glob("*.damaged-*"))


def test_a_database_from_a_newer_app_is_refused_untouched(db_path: Path) -> None:
    _build_at(db_path, SCHEMA_VERSION)
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseError, match="newer KeyHygiene") as info:
        Database(db_path)
    assert not isinstance(info.value, DatabaseCorrupt)
    assert db_path.read_bytes() == before
    assert not list(db_path.parent.glob("*.damaged-*"))


# ---- corruption ------------------------------------------------------------------------------------------
def _garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an SQLite database, it is a text file someone saved here\n" * 50)


def _damaged_pages(path: Path) -> None:
    """A real KeyHygiene database whose data pages were overwritten (a bad disk, a half-copied backup)."""
    d = Database(path)
    with d.transaction() as c:
        for i in range(400):
            c.execute("INSERT INTO settings(name, value) VALUES (?, ?)", (f"n{i}", "v" * 200))
    d.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, 3 * page):
        data[offset : offset + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_garbage, _damaged_pages], ids=["not-a-database", "damaged-pages"])
def test_a_corrupt_database_is_copied_aside_never_overwritten(
    db_path: Path, damage: Callable[[Path], None]
) -> None:
    damage(db_path)
    before = db_path.read_bytes()
    with pytest.raises(DatabaseCorrupt) as info:
        Database(db_path)
    err = info.value
    assert db_path.read_bytes() == before  # nothing recreated over the user's file
    assert err.copy is not None and err.copy.exists()
    assert err.copy.read_bytes() == before
    assert err.copy.parent == db_path.parent
    msg = str(err)
    assert "damaged" in msg and str(db_path) in msg and str(err.copy) in msg and "Nothing was overwritten" in msg
    # A second attempt keeps the first copy and makes another.
    with pytest.raises(DatabaseCorrupt) as again:
        Database(db_path)
    assert again.value.copy != err.copy and err.copy.exists()
    assert db_path.read_bytes() == before


# ---- read-only and unwritable ----------------------------------------------------------------------------
def test_a_read_only_database_opens_for_reading_and_refuses_writes_clearly(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = Database(db_path)
    with d.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '1')")
    d.close()
    before = db_path.read_bytes()
    open_sqlite_read_only(monkeypatch)
    d = Database(db_path)
    try:
        assert d.query("SELECT value FROM settings WHERE name = 'a'")[0][0] == "1"
        with pytest.raises(DatabaseError, match="read-only; nothing was changed") as info, d.transaction() as c:
            c.execute("INSERT INTO settings(name, value) VALUES ('b', '2')")
        assert not isinstance(info.value, DatabaseCorrupt)
        with pytest.raises(DatabaseError, match="read-only"):
            d.execute("UPDATE settings SET value = '3'")
    finally:
        d.close()
    assert db_path.read_bytes() == before


def test_a_read_only_database_that_needs_migrating_is_reported_as_read_only(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build_at(db_path, 0)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE placeholder (x)")  # so the file is not empty
    conn.close()
    open_sqlite_read_only(monkeypatch)
    with pytest.raises(DatabaseError, match="read-only") as info:
        Database(db_path)
    assert not isinstance(info.value, DatabaseCorrupt)
    assert not list(db_path.parent.glob("*.damaged-*"))


def test_a_read_only_file_on_disk_refuses_writes(db_path: Path) -> None:
    Database(db_path).close()
    with make_unwritable(db_path):
        d = Database(db_path)
        try:
            with pytest.raises(DatabaseError, match="read-only"), d.transaction() as c:
                c.execute("INSERT INTO settings(name, value) VALUES ('b', '2')")
        finally:
            d.close()


def test_an_unwritable_folder_is_not_mistaken_for_damage(db_path: Path) -> None:
    Database(db_path).close()
    for extra in db_path.parent.glob("*-wal"):
        extra.unlink()
    for extra in db_path.parent.glob("*-shm"):
        extra.unlink()
    before = db_path.read_bytes()
    with make_unwritable(db_path.parent), pytest.raises(DatabaseError) as info:
        Database(db_path)
    assert not isinstance(info.value, DatabaseCorrupt)
    assert "writable" in str(info.value) or "read-only" in str(info.value)
    assert db_path.read_bytes() == before
    assert not list(db_path.parent.glob("*.damaged-*"))


def test_a_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseError, match="cannot be created"):
        Database(blocker / "sub" / "keyhygiene.sqlite3")


def test_a_new_database_in_an_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with make_unwritable(folder), pytest.raises(DatabaseError) as info:
        Database(folder / "keyhygiene.sqlite3")
    assert "writable" in str(info.value) or "read-only" in str(info.value) or "cannot" in str(info.value)
    assert not (folder / "keyhygiene.sqlite3").exists() or (folder / "keyhygiene.sqlite3").stat().st_size == 0


# ---- transactions ----------------------------------------------------------------------------------------
def test_a_transaction_is_all_or_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '1')")
        raise RuntimeError("stop half-way")
    assert db.query("SELECT COUNT(*) FROM settings")[0][0] == 0
    with db.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '1')")
        c.execute("INSERT INTO settings(name, value) VALUES ('b', '2')")
    assert db.query("SELECT COUNT(*) FROM settings")[0][0] == 2


def test_a_constraint_violation_rolls_back_the_whole_transaction(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '1')")
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '2')")
    assert db.query("SELECT COUNT(*) FROM settings")[0][0] == 0
    with db.transaction() as c:  # the connection is usable afterwards
        c.execute("INSERT INTO settings(name, value) VALUES ('a', '3')")


def test_writes_from_several_threads_are_serialised(db: Database) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        with db.transaction() as c:
            c.execute("INSERT INTO settings(name, value) VALUES (?, ?)", (f"n{i}", str(i)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(40)))
    assert db.query("SELECT COUNT(*) FROM settings")[0][0] == 40


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("attempt to write a readonly database", "readonly"),
        ("unable to open database file", "cantopen"),
        ("database is locked", "busy"),
        ("database or disk is full", "full"),
        ("near 'x': syntax error", "other"),
    ],
)
def test_classify_sqlite_errors_by_message(message: str, kind: str) -> None:
    assert database._classify(sqlite3.OperationalError(message)) == kind


def test_write_error_messages(db: Database) -> None:
    assert "in use by another program" in str(db._write_error(sqlite3.OperationalError("database is locked")))
    assert "full" in str(db._write_error(sqlite3.OperationalError("database or disk is full")))
    assert "nothing was changed" in str(db._write_error(sqlite3.OperationalError("disk I/O error")))


# ---- issue 18: an empty or header-less file is a damaged vault, never a new one -------------------------------
@pytest.mark.parametrize("content", [b"", b"SQLite format 2\x00" + b"\x00" * 200, b"\x00" * 4096],
                         ids=["zero-bytes", "wrong-header", "zeros"])
def test_an_empty_or_headerless_database_is_damaged_not_new(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(content)
    with pytest.raises(DatabaseCorrupt) as info:
        Database(db_path)
    assert db_path.read_bytes() == content  # not turned into a new, empty vault
    assert info.value.copy is not None and info.value.copy.read_bytes() == content


def test_a_new_database_appears_whole_or_not_at_all(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A first run killed while the schema is written must not leave a zero-byte file (which is now "damaged").
    def broken(c: sqlite3.Connection) -> None:
        raise KeyboardInterrupt  # stands in for the kill

    monkeypatch.setattr(database, "MIGRATIONS", [broken])
    monkeypatch.setattr(database, "SCHEMA_VERSION", 1)
    with pytest.raises(KeyboardInterrupt):
        Database(db_path)
    assert not db_path.exists()
    assert [p.name for p in db_path.parent.iterdir()] == []


def test_a_full_disk_at_open_says_disk_full_and_leaves_no_empty_copy(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Database(db_path).close()

    def connect(*a: object, **kw: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("disk I/O error")

    def copy2(src: object, dst: object, **kw: object) -> None:
        Path(str(dst)).write_bytes(b"")  # what a copy on a full disk leaves: the file, no content
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(database.sqlite3, "connect", connect)
    monkeypatch.setattr(database.shutil, "copy2", copy2)
    monkeypatch.setattr(database.shutil, "disk_usage", lambda p: shutil_usage(0))
    with pytest.raises(DatabaseError) as info:
        Database(db_path)
    assert not isinstance(info.value, DatabaseCorrupt)
    assert "disk" in str(info.value) and "full" in str(info.value) and "damaged" not in str(info.value)
    assert not list(db_path.parent.glob("*.damaged-*"))


def test_a_failed_copy_aside_leaves_no_partial_copy(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(b"garbage" * 100)

    def copy2(src: object, dst: object, **kw: object) -> None:
        Path(str(dst)).write_bytes(b"gar")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(database.shutil, "copy2", copy2)
    with pytest.raises(DatabaseCorrupt) as info:
        Database(db_path)
    assert info.value.copy is None
    assert not list(db_path.parent.glob("*.damaged-*"))


def shutil_usage(free: int) -> object:
    import collections

    return collections.namedtuple("usage", "total used free")(1 << 30, (1 << 30) - free, free)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not sys.platform.startswith("linux"),
                    reason="needs root to mount a small tmpfs")
def test_a_really_full_disk_at_open_says_disk_full(tmp_path: Path) -> None:
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("mount failed")
    try:
        path = mnt / "keyhygiene.sqlite3"
        Database(path).close()
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
        fd = os.open(mnt / "fill", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        with pytest.raises(DatabaseError) as info:
            Database(path)
        assert not isinstance(info.value, DatabaseCorrupt), info.value
        assert "full" in str(info.value)
        assert not list(mnt.glob("*.damaged-*"))
    finally:
        subprocess.run(["umount", str(mnt)])
