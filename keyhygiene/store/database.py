"""SQLite metadata store: connection, pragmas, migrations by ``PRAGMA user_version``, corruption handling.

Nothing secret is ever written here: keys appear only as masked fingerprints and salted SHA-256 digests.
A database that cannot be read is copied aside and reported; it is never silently recreated over user data.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from keyhygiene.core.timeutil import utcnow

log = logging.getLogger(__name__)
SQLITE_HEADER = b"SQLite format 3\x00"
# Below this much free space SQLite cannot even create its WAL and shared-memory files: an open that fails with
# a bare "disk I/O error" then means a full disk, not a damaged file.
_MIN_FREE_BYTES = 64 * 1024


class DatabaseError(Exception):
    """The metadata store cannot be used; the message says what happened and where any copy went."""


class DatabaseCorrupt(DatabaseError):
    def __init__(self, path: Path, copy: Path | None, detail: str) -> None:
        self.path, self.copy = path, copy
        where = f" A copy was saved to {copy}." if copy else ""
        super().__init__(
            f"The KeyHygiene database at {path} is damaged and cannot be read ({detail}).{where} "
            "Nothing was overwritten. Your secrets are still in the OS keychain: `keyhygiene doctor` lists them; "
            "restore the file from a backup, or move it away and run `keyhygiene doctor --repair` to adopt "
            "them into a new vault."
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


def _m2(c: sqlite3.Connection) -> None:
    # Rotation: at most one unfinished rotation per key, enforced by the database so the GUI and a terminal
    # cannot start two at once (older duplicates, which no released version wrote, are closed as cancelled);
    # and the journal is read by rotation id on every resume.
    _script(
        c,
        """
        UPDATE rotations SET state = 'cancelled', finished_at = updated_at
            WHERE finished_at IS NULL
            AND id NOT IN (SELECT MAX(id) FROM rotations WHERE finished_at IS NULL GROUP BY key_id);
        CREATE UNIQUE INDEX rotations_one_open ON rotations(key_id) WHERE finished_at IS NULL;
        CREATE INDEX rotations_key ON rotations(key_id, started_at);
        CREATE INDEX rotation_journal_rotation ON rotation_journal(rotation_id, id);
        """
    )


# Each migration moves the schema from version i to i+1 and runs in one transaction with the version bump.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1, _m2]
SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """One SQLite file. Thread-safe through a lock; ``transaction()`` groups writes that belong together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"The data folder {self.path.parent} cannot be created ({exc.strerror or exc}). "
                "Choose another data folder with --data-dir."
            ) from None
        existed = self.path.exists()
        if existed:
            self._check_header()
        else:
            self._create()
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        except sqlite3.Error as exc:
            raise self._open_error(exc, existed) from None
        try:
            if existed:
                row = conn.execute("PRAGMA quick_check").fetchone()
                if not row or row[0] != "ok":
                    raise _Damaged(row[0] if row else "integrity check failed")
            self._refuse_newer(conn)  # before anything below writes to the file
            self._prepare(conn)
        except (sqlite3.Error, _Damaged) as exc:
            conn.close()
            raise self._open_error(exc, existed) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            pass  # read-only media: keep the default journal, the read-only check below reports it
        conn.execute("PRAGMA synchronous = NORMAL")
        self._migrate(conn)

    def _check_header(self) -> None:
        """The app never leaves an empty or header-less database behind (``_create``), so one is a damaged vault:
        opening it as a new one would hand out a new vault id and orphan every keychain entry (issue 18)."""
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(len(SQLITE_HEADER))
        except OSError:
            return  # unreadable: SQLite's own open names the cause (permissions, …)
        if head == SQLITE_HEADER:
            return
        detail = "the file is empty (0 bytes)" if not head else "the file does not start with an SQLite header"
        raise DatabaseCorrupt(self.path, self._copy_aside(), detail)

    def _create(self) -> None:
        """Build a new database beside its final name and link it into place only when its schema is complete, so
        a first run that is killed, or a full disk, never leaves a zero-byte or half-made file where the vault
        belongs. Two first runs at once: the second link fails and that process opens the first one's file."""
        tmp = self.path.with_name(f".{self.path.name}.new-{os.getpid()}-{threading.get_ident()}")
        try:
            try:
                conn = sqlite3.connect(tmp, isolation_level=None)
            except sqlite3.Error as exc:
                raise self._open_error(exc, False) from None
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)  # rollback journal here: one self-contained file to link into place
            except sqlite3.Error as exc:
                raise self._open_error(exc, False) from None
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process created the vault first: use theirs
            except OSError:
                # File systems without hard links (some FUSE/SMB mounts): rename, unless someone was faster.
                if not self.path.exists():
                    os.replace(tmp, self.path)
        except OSError as exc:
            raise self._open_error(exc, False) from None
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                try:
                    leftover.unlink()
                except OSError:
                    pass

    def _open_error(self, exc: Exception, existed: bool) -> DatabaseError:
        """Name the real cause: only a file SQLite calls damaged is reported (and copied aside) as damaged."""
        kind = _classify(exc)
        if kind == "other" and self._disk_full():
            kind = "full"  # SQLite reports a full disk at open as "disk I/O error" (it cannot create the WAL)
        if kind == "readonly":
            return DatabaseError(
                f"The database {self.path} is read-only. Check the permissions of the file and of its folder, "
                "or choose another data folder with --data-dir."
            )
        if kind == "cantopen":
            return DatabaseError(
                f"The database {self.path} cannot be opened: its folder must exist and be writable (SQLite keeps "
                "journal files next to it). Check the folder's permissions or choose another with --data-dir."
            )
        if kind == "busy":
            return DatabaseError(f"The database {self.path} is in use by another program; close it and try again.")
        if kind == "full":
            return DatabaseError(
                f"The disk holding {self.path} is full; free some space and try again. Nothing was changed."
            )
        if existed:
            return DatabaseCorrupt(self.path, self._copy_aside(), str(exc))
        return DatabaseError(f"The database {self.path} cannot be created: {exc}.")

    def _copy_aside(self) -> Path | None:
        """Copy the damaged file (and its WAL, which may hold the newest writes) next to it; never move it."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        dest = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while dest.exists():  # two failures within a second must not overwrite the first copy
            n += 1
            dest = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        wal = self.path.with_name(self.path.name + "-wal")
        copies = [(self.path, dest)] + ([(wal, dest.with_name(dest.name + "-wal"))] if wal.exists() else [])
        made: list[Path] = []
        try:
            for src, dst in copies:
                made.append(dst)
                shutil.copy2(src, dst)
            return dest
        except OSError:
            # A half-written copy (a full disk) would pass for the user's data: remove it, report no copy.
            for dst in made:
                try:
                    dst.unlink()
                except OSError:
                    pass
            return None

    def _disk_full(self) -> bool:
        try:
            return shutil.disk_usage(self.path.parent).free < _MIN_FREE_BYTES
        except OSError:
            return False

    def _refuse_newer(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"The database {self.path} was written by a newer KeyHygiene (schema {version}); "
                "update the app to open it. The file was not changed."
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        self._refuse_newer(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for v in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[v](conn)
                conn.execute(f"PRAGMA user_version = {v + 1}")
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and _classify(exc) == "other":
                    # A failed upgrade is not damage: the rollback left the file exactly as it was.
                    raise DatabaseError(
                        f"The database {self.path} could not be upgraded from schema {v} to {v + 1} ({exc}); "
                        "it was left unchanged. Please report this together with the app version."
                    ) from None
                raise
            log.info("database migrated to schema %d", v + 1)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all. SQLite write failures become DatabaseError;
        other exceptions (constraint violations, the caller's own) roll back and propagate unchanged."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._write_error(exc) from None
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise self._write_error(exc) from None
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise self._write_error(exc) from None

    def _rollback(self) -> None:
        # SQLite rolls back by itself after some errors (disk full, I/O); a second ROLLBACK would raise.
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    def _write_error(self, exc: sqlite3.Error) -> DatabaseError:
        kind = _classify(exc)
        if kind == "readonly":
            return DatabaseError(
                f"The database {self.path} is read-only; nothing was changed. Check the permissions of the file "
                "and of its folder, or choose another data folder with --data-dir."
            )
        if kind == "busy":
            return DatabaseError(f"The database {self.path} is in use by another program; nothing was changed.")
        if kind == "full":
            return DatabaseError(f"The disk holding {self.path} is full; nothing was changed.")
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

    def tuples(self, sql: str, params: tuple | dict = ()) -> list[tuple[Any, ...]]:
        """``query`` as plain tuples, for reads that name their columns and take them by position: a row of a
        few hundred read before the window's first frame costs less so than as an ``sqlite3.Row``, whose every
        lookup by name compares the column names one by one (issue 21)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Damaged(Exception):
    """``PRAGMA quick_check`` found damage."""


def _classify(exc: BaseException) -> str:
    """readonly | cantopen | busy | full | other, from SQLite's error code (Python 3.11+) or its message."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or _is_readonly(exc):
        return "readonly"
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "unable to open" in text:
        return "cantopen"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return "busy"
    if name.startswith("SQLITE_FULL") or "database or disk is full" in text:
        return "full"
    return "other"


def _is_readonly(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "attempt to write" in text
