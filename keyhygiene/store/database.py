"""SQLite metadata store: connection, pragmas, migrations by ``PRAGMA user_version``, corruption handling.

Nothing secret is ever written here: keys appear only as masked fingerprints and salted SHA-256 digests.
A database that cannot be read is copied aside and reported; it is never silently recreated over user data.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from keyhygiene.core.timeutil import utcnow

log = logging.getLogger(__name__)


class DatabaseError(Exception):
    """The metadata store cannot be used; the message says what happened and where any copy went."""


class DatabaseCorrupt(DatabaseError):
    def __init__(self, path: Path, copy: Path | None, detail: str) -> None:
        self.path, self.copy = path, copy
        where = f" A copy was saved to {copy}." if copy else ""
        super().__init__(
            f"The KeyHygiene database at {path} is damaged and cannot be read ({detail}).{where} "
            "Nothing was overwritten. Your secrets are still in the OS keychain; move the damaged file away "
            "to start a new vault, or restore it from a backup."
        )


def _script(c: sqlite3.Connection, sql: str) -> None:
    """Run statements one by one: ``executescript`` would COMMIT and break the migration's transaction."""
    for stmt in sql.split(";"):
        if stmt.strip():
            c.execute(stmt)


def _m1(c: sqlite3.Connection) -> None:
    _script(
        c,
        """
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE keys (
            id TEXT PRIMARY KEY,
            exchange TEXT NOT NULL,
            label TEXT NOT NULL,
            purpose TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            key_sha256 TEXT NOT NULL UNIQUE,
            created_at TEXT,
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'active',
            declared_permissions TEXT,
            note TEXT
        );
        CREATE TABLE exposures (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
            service TEXT NOT NULL,
            shared_at TEXT,
            revoked_at TEXT,
            note TEXT
        );
        CREATE INDEX exposures_key ON exposures(key_id);
        CREATE TABLE inspections (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
            checked_at TEXT NOT NULL,
            status TEXT NOT NULL,
            profile TEXT NOT NULL
        );
        CREATE INDEX inspections_key ON inspections(key_id, checked_at);
        CREATE TABLE rotations (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            old_fingerprint TEXT NOT NULL,
            new_fingerprint TEXT,
            old_dead_at TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE rotation_journal (
            id INTEGER PRIMARY KEY,
            rotation_id INTEGER NOT NULL REFERENCES rotations(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            step TEXT NOT NULL,
            phase TEXT NOT NULL,
            detail TEXT
        );
        CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


# Each migration moves the schema from version i to i+1 and runs in one transaction with the version bump.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1]
SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """One SQLite file. Thread-safe through a lock; ``transaction()`` groups writes that belong together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"The data folder {self.path.parent} cannot be created: {exc.strerror}.") from None
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        except sqlite3.Error as exc:
            raise DatabaseError(f"The database {self.path} cannot be opened: {exc}.") from None
        try:
            if existed:
                row = conn.execute("PRAGMA quick_check").fetchone()
                if not row or row[0] != "ok":
                    raise sqlite3.DatabaseError(row[0] if row else "integrity check failed")
            conn.execute("PRAGMA foreign_keys = ON")
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass  # read-only media: keep the default journal, the read-only check below reports it
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and _is_readonly(exc):
                raise DatabaseError(
                    f"The database {self.path} is read-only. Check the file's permissions or choose another "
                    "data folder with --data-dir."
                ) from None
            if existed:
                raise DatabaseCorrupt(self.path, self._copy_aside(), str(exc)) from None
            raise DatabaseError(f"The database {self.path} cannot be created: {exc}.") from None
        return conn

    def _copy_aside(self) -> Path | None:
        dest = self.path.with_name(f"{self.path.name}.damaged-{utcnow().strftime('%Y%m%dT%H%M%SZ')}")
        try:
            shutil.copy2(self.path, dest)
            return dest
        except OSError:
            return None

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"The database {self.path} was written by a newer KeyHygiene (schema {version}); "
                "update the app to open it."
            )
        for v in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[v](conn)
                conn.execute(f"PRAGMA user_version = {v + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("database migrated to schema %d", v + 1)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    self._conn.execute("ROLLBACK")
                    raise self._write_error(exc) from None

    def _write_error(self, exc: sqlite3.Error) -> DatabaseError:
        if _is_readonly(exc):
            return DatabaseError(f"The database {self.path} is read-only; nothing was changed.")
        return DatabaseError(f"Writing to {self.path} failed ({exc}); nothing was changed.")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                    raise self._write_error(exc) from None
                raise

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _is_readonly(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "attempt to write" in text
