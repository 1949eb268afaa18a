"""The rotation journal in the team vault: ``<mount>/data/rotations/<key id>``, written with check-and-set.

The core's journal keeps writing its rows into the local cache; temporary SQLite triggers note which rotations a
transaction touched, and before that transaction commits the rotation's whole row and journal go to the server as
one document, with check-and-set against the version read just before. The document names who rotates the key
and since when, so a teammate who starts a rotation of the same key gets "being rotated by <who> since <when>"
and their cache rolls back: two people never hold one key's rotation, and the journal is never interleaved.

A rotation of one's own that is open on the server but not in the cache (a deleted cache, another machine with
the same token) comes back on refresh, so ``rotate --resume`` continues it.
"""

from __future__ import annotations

import getpass
import socket
import sqlite3
from dataclasses import dataclass
from typing import Any

from keyhygiene.core.rotation.journal import RotationInProgress
from keyhygiene.store.team_client import ROTATIONS, CheckAndSetConflict, TeamClient
from keyhygiene.store.team_index import TeamIndex

TRIGGERS = """
CREATE TEMP TABLE IF NOT EXISTS kh_touched_rotations (id INTEGER PRIMARY KEY);
CREATE TEMP TRIGGER IF NOT EXISTS kh_rotations_insert AFTER INSERT ON main.rotations
    BEGIN INSERT OR IGNORE INTO kh_touched_rotations VALUES (NEW.id); END;
CREATE TEMP TRIGGER IF NOT EXISTS kh_rotations_update AFTER UPDATE ON main.rotations
    BEGIN INSERT OR IGNORE INTO kh_touched_rotations VALUES (NEW.id); END;
CREATE TEMP TRIGGER IF NOT EXISTS kh_journal_insert AFTER INSERT ON main.rotation_journal
    BEGIN INSERT OR IGNORE INTO kh_touched_rotations VALUES (NEW.rotation_id); END
"""
ROTATION_COLUMNS = ("key_id", "state", "started_at", "updated_at", "finished_at", "old_fingerprint",
                    "new_fingerprint", "old_dead_at", "data")


class RotationClaimed(RotationInProgress):
    """A teammate holds this key's rotation in the team vault."""

    def __init__(self, key_id: str, who: str, since: str) -> None:
        self.key_id, self.who, self.since = key_id, who, since
        Exception.__init__(self, f"Key {key_id} is being rotated by {who} since {since}; "
                                 "wait until they finish or cancel it.")


@dataclass(frozen=True)
class Claimant:
    accessor: str  # the token's accessor: the same token (a person's, on any machine) is the same claimant
    who: str  # what a teammate is shown


def install_triggers(c: sqlite3.Connection) -> None:
    """Once per connection, outside any transaction (executescript commits; TEMP objects live with the connection)."""
    c.executescript(TRIGGERS + ";")


def touched_rotations(c: sqlite3.Connection) -> list[int]:
    ids = [int(r[0]) for r in c.execute("SELECT id FROM kh_touched_rotations")]
    c.execute("DELETE FROM kh_touched_rotations")
    return ids


class TeamJournal:
    def __init__(self, client: TeamClient, index: TeamIndex | None = None) -> None:
        self.client = client
        self.index = index
        self._me: Claimant | None = None

    @property
    def me(self) -> Claimant:
        if self._me is None:
            info = self.client.call(self.client.hvac.auth.token.lookup_self).get("data") or {}
            name = info.get("display_name") or "token"
            try:
                user = f"{getpass.getuser()}@{socket.gethostname()}"
            except Exception:  # no login name (a service account without a passwd entry)
                user = socket.gethostname()
            self._me = Claimant(accessor=str(info.get("accessor") or ""), who=f"{name} ({user})")
        return self._me

    def _path(self, key_id: str) -> str:
        return f"{ROTATIONS}/{key_id}"

    def read(self, key_id: str) -> tuple[int, dict[str, Any] | None]:
        """(KV version, document) of the key's rotation record; (0, None) when there is none."""
        import hvac.exceptions as hx

        path = self._path(key_id)
        try:
            resp = self.client.call(self.client.kv.read_secret_version, path, mount_point=self.client.cfg.mount,
                                    raise_on_deleted_version=True, path=path)
        except hx.InvalidPath:
            return 0, None
        data = resp.get("data") or {}
        return int((data.get("metadata") or {}).get("version") or 0), dict(data.get("data") or {})

    def publish(self, c: sqlite3.Connection, rotation_id: int) -> tuple[str, int] | None:
        """Send one rotation (row and journal, read on the cache transaction's connection) with check-and-set;
        returns (key id, the KV version written)."""
        c.row_factory = sqlite3.Row
        try:
            row = c.execute("SELECT * FROM rotations WHERE id = ?", (rotation_id,)).fetchone()
            if row is None:
                return None
            entries = [dict(e) for e in c.execute(
                "SELECT at, step, phase, detail FROM rotation_journal WHERE rotation_id = ? ORDER BY id",
                (rotation_id,))]
        finally:
            c.row_factory = None
        key_id = row["key_id"]
        me = self.me
        doc = {
            "open": row["finished_at"] is None,
            "claimant": {"accessor": me.accessor, "who": me.who},
            "since": row["started_at"],
            "rotation": {k: row[k] for k in ROTATION_COLUMNS},
            "journal": entries,
        }
        for _attempt in range(3):
            version, current = self.read(key_id)
            self._refuse_if_claimed(key_id, current, row["started_at"])
            try:
                resp = self.client.call(self.client.kv.create_or_update_secret, self._path(key_id), secret=doc,
                                        cas=version, mount_point=self.client.cfg.mount, path=self._path(key_id))
            except CheckAndSetConflict:
                continue  # someone wrote in between: read again; if it is a teammate's claim, refuse
            written = int(resp["data"]["version"])
            if self.index is not None:
                self.index.set("rotations", key_id, written)
            return key_id, written
        version, current = self.read(key_id)
        self._refuse_if_claimed(key_id, current, row["started_at"])
        raise CheckAndSetConflict(self._path(key_id))

    def _refuse_if_claimed(self, key_id: str, current: dict[str, Any] | None, started_at: str) -> None:
        if not current or not current.get("open"):
            return
        claimant = current.get("claimant") or {}
        if claimant.get("accessor") == self.me.accessor:
            return  # our own rotation (this one, or one resumed from another machine with the same token)
        raise RotationClaimed(key_id, str(claimant.get("who") or "a teammate"), str(current.get("since") or "?"))

    def listed(self) -> set[str]:
        import hvac.exceptions as hx

        try:
            resp = self.client.call(self.client.kv.list_secrets, f"{ROTATIONS}/", mount_point=self.client.cfg.mount,
                                    path=f"{ROTATIONS}/")
        except hx.InvalidPath:
            return set()
        return {k for k in (resp.get("data") or {}).get("keys") or [] if not k.endswith("/")}

    def restore(self, c: sqlite3.Connection, key_ids: list[str]) -> dict[str, int]:
        """Bring into the cache what it lacks: finished rotations (anyone's: the shared history) and our own open
        one (a deleted cache, another machine with the same token), so ``rotate --resume`` continues it. A
        teammate's open rotation stays out: starting one here gets their name from the claim check instead.
        ``key_ids`` are the rotation documents to read; returns the KV version read of each."""
        read: dict[str, int] = {}
        for key_id in key_ids:
            version, doc = self.read(key_id)
            if not doc:
                continue
            read[key_id] = version
            r = doc.get("rotation") or {}
            mine = (doc.get("claimant") or {}).get("accessor") == self.me.accessor
            if doc.get("open") and not mine:
                continue
            if c.execute("SELECT 1 FROM rotations WHERE key_id = ? AND started_at = ?",
                         (key_id, r.get("started_at"))).fetchone():
                continue
            if doc.get("open") and c.execute(
                "SELECT 1 FROM rotations WHERE key_id = ? AND finished_at IS NULL", (key_id,)
            ).fetchone():
                continue
            cols = ", ".join(ROTATION_COLUMNS)
            marks = ", ".join("?" * len(ROTATION_COLUMNS))
            cur = c.execute(
                f"INSERT INTO rotations({cols}) VALUES ({marks})",
                tuple((r.get(k) or "{}") if k == "data" else r.get(k) for k in ROTATION_COLUMNS),
            )
            rid = int(cur.lastrowid or 0)
            for e in doc.get("journal") or []:
                c.execute(
                    "INSERT INTO rotation_journal(rotation_id, at, step, phase, detail) VALUES (?,?,?,?,?)",
                    (rid, e["at"], e["step"], e["phase"], e.get("detail")),
                )
        return read

    def delete(self, key_id: str) -> None:
        import hvac.exceptions as hx

        try:
            self.client.call(self.client.kv.delete_metadata_and_all_versions, self._path(key_id),
                             mount_point=self.client.cfg.mount, path=self._path(key_id))
        except hx.InvalidPath:
            pass
