"""Typed reads and writes of the metadata store. SQL lives here and in database.py only."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from typing import Any

from keyhygiene.core.models import Exposure, KeyProfile, KeyRecord, StoredProfile, profile_from_text
from keyhygiene.core.timeutil import iso, parse_iso, utcnow
from keyhygiene.store.database import Database

# keys.state of a row committed before its secret is in the keychain (crash-consistent add, issue 18): a crash
# leaves a row that says so, which ``doctor`` reports and ``doctor --repair`` completes or removes.
ADDING = "adding"

# The columns the key and exposure reads take, by position (``_key_from_row``, ``_exposure_from_row``): named, so a
# column a migration adds or a table rebuilt in another order cannot shift them (``SELECT *`` would), and read as
# plain tuples (``Database.tuples``), not ``sqlite3.Row``: the window reads every key before its first frame, and
# Row's lookup by name (it compares the column names one by one) was ~10 % of that read (issue 21).
_KEY_COLUMNS = ("id, exchange, label, purpose, fingerprint, key_sha256, created_at, added_at, updated_at, state,"
                " declared_permissions, note")
_EXPOSURE_COLUMNS = "id, key_id, service, shared_at, revoked_at, note"


def new_key_id() -> str:
    """Short, typeable, unguessable enough to never collide in one vault."""
    import secrets  # here, not at import: it loads hashlib/OpenSSL (~3 ms of the app's start-up)

    return "k" + secrets.token_hex(4)


class Repository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- meta ---------------------------------------------------------------------------------------------
    def vault_id(self, preferred: str | None = None) -> str:
        """The random id that namespaces this vault's keychain entries; created once, on first use (as
        ``preferred`` when given: the id a lost database of the same data dir used)."""
        rows = self.db.query("SELECT value FROM meta WHERE name = 'vault_id'")
        if rows:
            return str(rows[0]["value"])
        import secrets

        vid = preferred or secrets.token_hex(8)
        with self.db.transaction() as c:
            c.execute("INSERT OR IGNORE INTO meta(name, value) VALUES ('vault_id', ?)", (vid,))
        return str(self.db.query("SELECT value FROM meta WHERE name = 'vault_id'")[0]["value"])

    # ---- keys ---------------------------------------------------------------------------------------------
    def insert_key(self, c: sqlite3.Connection, rec: KeyRecord) -> None:
        c.execute(
            "INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, created_at, added_at,"
            " updated_at, state, declared_permissions, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rec.id,
                rec.exchange,
                rec.label,
                rec.purpose,
                rec.fingerprint,
                rec.key_sha256,
                iso(rec.created_at),
                iso(rec.added_at),
                iso(rec.updated_at),
                rec.state,
                json.dumps(rec.declared_permissions) if rec.declared_permissions is not None else None,
                rec.note,
            ),
        )
        for e in rec.exposures:
            self.insert_exposure(c, rec.id, e)

    def update_key(self, c: sqlite3.Connection, key_id: str, **fields: Any) -> None:
        allowed = {"label", "purpose", "fingerprint", "key_sha256", "created_at", "state",
                   "declared_permissions", "note", "exchange"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update {sorted(bad)}")
        values: dict[str, Any] = {}
        for k, v in fields.items():
            if isinstance(v, datetime):
                v = iso(v)
            elif k == "declared_permissions" and v is not None:
                v = json.dumps(v)
            values[k] = v
        values["updated_at"] = iso(utcnow())
        sets = ", ".join(f"{k} = :{k}" for k in values)
        c.execute(f"UPDATE keys SET {sets} WHERE id = :id", {**values, "id": key_id})

    def unfinished_adds(self) -> list[KeyRecord]:
        rows = self.db.tuples(f"SELECT {_KEY_COLUMNS} FROM keys WHERE state = ? ORDER BY added_at, id", (ADDING,))
        return self._attach_exposures([self._key_from_row(r) for r in rows])

    def all_key_ids(self) -> set[str]:
        return {str(r["id"]) for r in self.db.query("SELECT id FROM keys")}

    def delete_key(self, c: sqlite3.Connection, key_id: str) -> None:
        c.execute("DELETE FROM keys WHERE id = ?", (key_id,))

    def get_key(self, key_id: str) -> KeyRecord | None:
        rows = self.db.tuples(f"SELECT {_KEY_COLUMNS} FROM keys WHERE id = ?", (key_id,))
        if not rows:
            return None
        return self._attach_exposures([self._key_from_row(rows[0])])[0]

    def find_by_digest(self, digest: str) -> KeyRecord | None:
        rows = self.db.tuples(f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_sha256 = ?", (digest,))
        return self._attach_exposures([self._key_from_row(rows[0])])[0] if rows else None

    def list_keys(self) -> list[KeyRecord]:
        # A key whose add has not finished (its keychain write may not have happened) is not a key yet.
        rows = self.db.tuples(f"SELECT {_KEY_COLUMNS} FROM keys WHERE state != '{ADDING}' ORDER BY exchange, label, id")
        return self._attach_exposures([self._key_from_row(r) for r in rows])

    def _attach_exposures(self, keys: list[KeyRecord]) -> list[KeyRecord]:
        by_id = {k.id: k for k in keys}
        if not by_id:
            return keys
        one = len(by_id) == 1
        if one:
            rows = self.db.tuples(f"SELECT {_EXPOSURE_COLUMNS} FROM exposures WHERE key_id = ? ORDER BY id",
                                  (keys[0].id,))
        else:
            rows = self.db.tuples(f"SELECT {_EXPOSURE_COLUMNS} FROM exposures ORDER BY id")
        for r in rows:
            k = by_id.get(r[1])
            if k is not None:
                k.exposures.append(self._exposure_from_row(r))
        # A rotation put the new key in the entry when it recorded its new fingerprint (RECORD, in one transaction
        # with the sharings it ended); finished_at follows a moment later.
        sql = ("SELECT key_id, MAX(COALESCE(finished_at, updated_at)) AS at FROM rotations"
               " WHERE new_fingerprint IS NOT NULL" + (" AND key_id = ?" if one else "") + " GROUP BY key_id")
        for kid, at in self.db.tuples(sql, (keys[0].id,) if one else ()):
            k = by_id.get(kid)
            if k is not None:
                k.rotated_at = parse_iso(at)
        return keys

    @staticmethod
    def _key_from_row(r: tuple[Any, ...]) -> KeyRecord:
        """A row of ``SELECT {_KEY_COLUMNS}``. KeyRecord's fields are passed by position, in their declared order
        (half the cost of by name for 500 keys before the first frame; test_repository_reads checks the order)."""
        kid, exchange, label, purpose, fingerprint, digest, created, added_text, updated, state, perms, note = r
        added = parse_iso(added_text)
        assert added is not None
        return KeyRecord(kid, exchange, label, purpose, fingerprint, digest, parse_iso(created), added,
                         parse_iso(updated) or added, state, json.loads(perms) if perms else None, note)

    # ---- exposures ----------------------------------------------------------------------------------------
    def insert_exposure(self, c: sqlite3.Connection, key_id: str, e: Exposure) -> int:
        cur = c.execute(
            "INSERT INTO exposures(key_id, service, shared_at, revoked_at, note) VALUES (?,?,?,?,?)",
            (key_id, e.service, _day(e.shared_at), _day(e.revoked_at), e.note),
        )
        return int(cur.lastrowid or 0)

    def end_exposure(self, c: sqlite3.Connection, exposure_id: int, revoked_at: date) -> None:
        c.execute("UPDATE exposures SET revoked_at = ? WHERE id = ?", (revoked_at.isoformat(), exposure_id))

    def end_all_exposures(self, c: sqlite3.Connection, key_id: str, revoked_at: date) -> None:
        c.execute(
            "UPDATE exposures SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (revoked_at.isoformat(), key_id),
        )

    @staticmethod
    def _exposure_from_row(r: tuple[Any, ...]) -> Exposure:
        """A row of ``SELECT {_EXPOSURE_COLUMNS}``."""
        eid, _key_id, service, shared, revoked, note = r
        return Exposure(
            id=eid,
            service=service,
            shared_at=date.fromisoformat(shared) if shared else None,
            revoked_at=date.fromisoformat(revoked) if revoked else None,
            note=note,
        )

    # ---- inspections --------------------------------------------------------------------------------------
    def record_inspection(self, key_id: str, profile: KeyProfile, at: datetime | None = None) -> None:
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                (key_id, iso(at or utcnow()), str(profile.status), json.dumps(profile.to_json())),
            )

    def latest_inspection(self, key_id: str) -> tuple[datetime, KeyProfile] | None:
        rows = self.db.query(
            "SELECT checked_at, profile FROM inspections WHERE key_id = ? ORDER BY checked_at DESC, id DESC LIMIT 1",
            (key_id,),
        )
        if not rows:
            return None
        at = parse_iso(rows[0]["checked_at"])
        assert at is not None
        profile = profile_from_text(rows[0]["profile"])
        return None if profile is None else (at, profile)

    def latest_inspections(self) -> dict[str, tuple[datetime, KeyProfile]]:
        out: dict[str, tuple[datetime, KeyProfile]] = {}
        for kid, (at, stored) in self.latest_stored_inspections().items():
            profile = stored.get()
            if profile is not None:  # an unreadable row: the key counts as not checked (profile_from_text)
                out[kid] = (at, profile)
        return out

    def latest_stored_inspections(self) -> dict[str, tuple[datetime, StoredProfile]]:
        """``latest_inspections`` with each profile decoded only when asked for (``StoredProfile.get``)."""
        rows = self.db.tuples(
            "SELECT i.key_id, i.checked_at, i.profile FROM inspections i JOIN ("
            " SELECT key_id, MAX(id) AS mid FROM inspections GROUP BY key_id) m ON i.id = m.mid"
        )
        out: dict[str, tuple[datetime, StoredProfile]] = {}
        for kid, checked, profile in rows:
            at = parse_iso(checked)
            assert at is not None
            out[kid] = (at, StoredProfile(profile))
        return out

    def inspection_history(self, key_id: str, limit: int = 50) -> list[tuple[datetime, KeyProfile]]:
        rows = self.db.query(
            "SELECT checked_at, profile FROM inspections WHERE key_id = ? ORDER BY id DESC LIMIT ?",
            (key_id, limit),
        )
        out = []
        for r in rows:
            profile = profile_from_text(r["profile"])
            if profile is not None:  # an unreadable row is left out, not the whole history (profile_from_text)
                out.append((parse_iso(r["checked_at"]), profile))
        return out  # type: ignore[return-value]

    # ---- settings -----------------------------------------------------------------------------------------
    def get_setting(self, name: str, default: Any = None) -> Any:
        rows = self.db.query("SELECT value FROM settings WHERE name = ?", (name,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, name: str, value: Any) -> None:
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO settings(name, value) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, json.dumps(value)),
            )

    def all_settings(self) -> dict[str, Any]:
        return {r["name"]: json.loads(r["value"]) for r in self.db.query("SELECT name, value FROM settings")}


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None
