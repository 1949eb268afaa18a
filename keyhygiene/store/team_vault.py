"""The team vault: the same ``Vault`` the layers above use, with the truth on an OpenBao/Vault KV v2 server.

- A key's secrets: ``<mount>/data/keys/<id>`` (team_secrets.py: rotation stages as KV versions).
- Its metadata beside them, readable without the secret: ``<mount>/data/meta/<id>`` holds the record (exchange,
  label, purpose, fingerprint, sharings, declared permissions) and the latest inspections (the findings' inputs).
- The rotation claim and journal: ``<mount>/data/rotations/<id>``, written with check-and-set (team_journal.py).

The local SQLite file is only a cache of the metadata, so everything above (which reads ``vault.repo``) works
unchanged and the window can show the keys when the server is away. Every metadata write is sent to the server
*inside* the cache's transaction, before it commits: when the server refuses, the cache rolls back and nothing
differs. ``refresh()`` rebuilds the cache from the server (a teammate's change appears), so deleting the cache
file loses nothing. A metadata document is written with check-and-set against the version this cache last saw:
a teammate's concurrent change is never overwritten; the writer is told to refresh and try again.

Refreshing reads only what changed: ``<mount>/data/index`` maps every key's metadata and rotation document to its
latest KV version (each writer updates it, with check-and-set, right after its own write), and the cache keeps the
versions it has seen. A refresh is then one listing, the index and the changed documents; with no index, or an
empty cache, every document is read. A writer killed between its write and the index update leaves that one change
unnoticed by warm caches until the key's next write or a cold refresh (the listing still shows every added or
removed key at once).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, Exposure, KeyProfile, KeyRecord
from keyhygiene.core.timeutil import iso, parse_iso, utcnow
from keyhygiene.paths import AppPaths
from keyhygiene.store.database import Database, DatabaseError
from keyhygiene.store.keychain import CURRENT, KeychainCorrupt
from keyhygiene.store.repository import Repository
from keyhygiene.store.team_client import META, CheckAndSetConflict, TeamClient, TeamConfig
from keyhygiene.store.team_index import TeamIndex
from keyhygiene.store.team_journal import TeamJournal, install_triggers, touched_rotations
from keyhygiene.store.team_secrets import TeamSecretStore
from keyhygiene.store.vault import Vault, _default_resolver

log = logging.getLogger(__name__)
META_SCHEMA = 1
INSPECTIONS_KEPT = 20  # enough history for the rules that compare with earlier checks, bounded per document
REFRESH_THREADS = 8
REFRESHED_SETTING = "team.refreshed_at"  # in the cache: when it last matched the server (the window's "cached at")
# Secret reads during an audit: each is CPU in this process (requests, json) competing with the event loop that
# paces the exchanges' requests, so a few threads; the server answers a read in well under a millisecond.
AHEAD_THREADS = 4
# How far the reads run ahead of the checks that asked for their secret (SecretReads): enough that a check's secret
# is in hand when its turn comes (the checks start a few at a time, ~2 ms each), few enough that the reads of keys
# whose turn is far off do not compete with the starts of the urgent ones for this process's CPU and the server's.
READ_AHEAD = 12


class ConcurrentChange(DatabaseError):
    """A teammate changed the key after this copy was read. Nothing was written; refresh and try again."""


class _CacheDatabase(Database):
    """The SQLite cache, with a hook that publishes the keys a transaction touched before it commits."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.touched: set[str] = set()
        self.before_commit: Callable[[Any, set[str], list[int]], None] | None = None
        self.publishing = True
        with self._lock:
            install_triggers(self._conn)
            # The KV versions this cache has read or written, per document kind ("meta", "rotation").
            self._conn.execute("CREATE TABLE IF NOT EXISTS team_seen (kind TEXT NOT NULL, key_id TEXT NOT NULL,"
                               " version INTEGER NOT NULL, PRIMARY KEY (kind, key_id))")

    def seen(self, kind: str) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.query("SELECT key_id, version FROM team_seen WHERE kind = ?", (kind,))}

    def seen_one(self, kind: str, key_id: str) -> int | None:
        rows = self.query("SELECT version FROM team_seen WHERE kind = ? AND key_id = ?", (kind, key_id))
        return int(rows[0][0]) if rows else None

    def see(self, c: Any, kind: str, key_id: str, version: int | None) -> None:
        if version is None:
            c.execute("DELETE FROM team_seen WHERE kind = ? AND key_id = ?", (kind, key_id))
        else:
            c.execute("INSERT OR REPLACE INTO team_seen(kind, key_id, version) VALUES (?,?,?)",
                      (kind, key_id, version))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock, super().transaction() as c:
            try:
                yield c
                rotations = touched_rotations(c)
                if (self.touched or rotations) and self.before_commit is not None and self.publishing:
                    self.before_commit(c, set(self.touched), rotations)  # raises: the cache rolls back
            finally:
                self.touched.clear()


class TeamRepository(Repository):
    """The cache's repository: every write marks its key, so the transaction publishes it to the server."""

    db: _CacheDatabase

    def _touch(self, key_id: str) -> None:
        self.db.touched.add(key_id)

    def insert_key(self, c: Any, rec: KeyRecord) -> None:
        super().insert_key(c, rec)
        self._touch(rec.id)

    def update_key(self, c: Any, key_id: str, **fields: Any) -> None:
        super().update_key(c, key_id, **fields)
        self._touch(key_id)

    def delete_key(self, c: Any, key_id: str) -> None:
        super().delete_key(c, key_id)
        self._touch(key_id)

    def insert_exposure(self, c: Any, key_id: str, e: Exposure) -> int:
        n = super().insert_exposure(c, key_id, e)
        self._touch(key_id)
        return n

    def end_exposure(self, c: Any, exposure_id: int, revoked_at: date) -> None:
        row = c.execute("SELECT key_id FROM exposures WHERE id = ?", (exposure_id,)).fetchone()
        super().end_exposure(c, exposure_id, revoked_at)
        if row:
            self._touch(row[0])

    def end_all_exposures(self, c: Any, key_id: str, revoked_at: date) -> None:
        super().end_all_exposures(c, key_id, revoked_at)
        self._touch(key_id)

    # Set by the vault: inspections go to the server off the caller's thread (the audit calls this on its event
    # loop, which must not wait for the server between two exchanges' answers).
    on_inspection: Callable[[str, datetime, KeyProfile], None] | None = None

    def record_inspection(self, key_id: str, profile: KeyProfile, at: datetime | None = None) -> None:
        at = at or utcnow()
        if self.on_inspection is None:
            with self.db._lock:
                self._touch(key_id)
                super().record_inspection(key_id, profile, at)
            return
        super().record_inspection(key_id, profile, at)
        self.on_inspection(key_id, at, profile)


class TeamVault(Vault):
    """A ``Vault`` whose secrets and metadata live on the team server, with a local cache of the metadata."""

    db: _CacheDatabase
    repo: TeamRepository
    is_team = True

    def __init__(
        self,
        paths: AppPaths,
        config: TeamConfig,
        token: str,
        service_resolver: Callable[[str], str] | None = None,
        *,
        refresh: bool = True,
        client: TeamClient | None = None,
    ) -> None:
        self.paths = paths
        self.config = config
        try:
            self.warnings: list[str] = paths.ensure()
        except OSError as exc:
            raise DatabaseError(
                f"The data folder {paths.data_dir} cannot be used ({exc.strerror or exc}). Check its permissions "
                "or choose another data folder with --data-dir."
            ) from None
        self.client = client or TeamClient(config, token)
        self.db = _CacheDatabase(self.cache_path(paths, config))
        self.db.before_commit = self._publish
        self.repo = TeamRepository(self.db)
        self.repo.on_inspection = self._defer_inspection
        self._publisher: ThreadPoolExecutor | None = None
        self._pending: dict[Future[None], str] = {}
        self._bumps: dict[str, tuple[int, int]] = {}  # key id -> (version our copy was, version with our inspection)
        self._bumps_lock = threading.Lock()
        self._local: Repository | None = None  # the local database, for this machine's settings (opened on use)
        self.secrets = TeamSecretStore(self.client)  # type: ignore[assignment]
        self.index = TeamIndex(self.client)
        self.journal = TeamJournal(self.client, self.index)
        self.resolve_service = service_resolver or _default_resolver
        self.refreshed = False
        # Set by the service when the server could not be read and the cache is shown read-only instead.
        self.offline: Exception | None = None
        if refresh:
            self.refresh()

    @staticmethod
    def cache_path(paths: AppPaths, config: TeamConfig) -> Path:
        return paths.data_dir / f"team-cache-{config.slug}.sqlite3"

    # ---- server -> cache ----------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Make the cache equal to the server's metadata; returns the number of keys. TeamUnavailable (exit 3)
        when the server cannot be read: the cache stays as it was, for read-only display."""
        ids = self._list_meta()
        index = self.index.read()
        seen = self.db.seen("meta")
        if index is None:
            to_read = ids
        else:
            versions = index.get("meta") or {}
            to_read = [k for k in ids if k not in seen or versions.get(k) != seen[k]]
        docs: dict[str, tuple[int, dict[str, Any]]] = {}
        if to_read:
            with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(to_read))) as pool:
                for kid, got in zip(to_read, pool.map(self._read_meta, to_read), strict=True):
                    if got is not None:
                        docs[kid] = got
        rotations = set(self.journal.listed()) & set(ids)
        rot_seen = self.db.seen("rotation")
        rot_versions = (index or {}).get("rotations") or {}
        rot_read = {k for k in rotations if index is None or k not in rot_seen or rot_versions.get(k) != rot_seen[k]}
        self._apply(set(ids), docs, rot_read)
        self.refreshed = True
        self.repo.set_setting(REFRESHED_SETTING, iso(utcnow()))
        return len(ids)

    def refreshed_at(self) -> datetime | None:
        """When this cache last matched the server (None: never refreshed, e.g. a cache of an older version)."""
        return parse_iso(self.repo.get_setting(REFRESHED_SETTING))

    def _list_meta(self) -> list[str]:
        import hvac.exceptions as hx

        try:
            resp = self.client.call(self.client.kv.list_secrets, f"{META}/", mount_point=self.config.mount,
                                    path=f"{META}/")
        except hx.InvalidPath:
            return []
        return sorted(k for k in (resp.get("data") or {}).get("keys") or [] if not k.endswith("/"))

    def _read_meta(self, key_id: str) -> tuple[int, dict[str, Any]] | None:
        import hvac.exceptions as hx

        path = f"{META}/{key_id}"
        try:
            resp = self.client.call(self.client.kv.read_secret_version, path, mount_point=self.config.mount,
                                    raise_on_deleted_version=True, path=path)
        except hx.InvalidPath:
            return None  # deleted between the listing and the read
        data = resp.get("data") or {}
        return int((data.get("metadata") or {}).get("version") or 0), dict(data.get("data") or {})

    def _apply(self, ids: set[str], docs: dict[str, tuple[int, dict[str, Any]]], rotations: set[str]) -> None:
        # Upserts, not a wipe: the local rotation rows reference the keys (ON DELETE CASCADE) and must survive.
        self.db.publishing = False
        try:
            with self.db.transaction() as c:
                known = {r[0] for r in c.execute("SELECT id FROM keys")}
                for kid in known - ids:
                    c.execute("DELETE FROM keys WHERE id = ?", (kid,))
                for kid in set(self.db.seen("meta")) - ids:
                    self.db.see(c, "meta", kid, None)
                for kid, (version, doc) in docs.items():
                    self._apply_one(c, kid, doc)
                    self.db.see(c, "meta", kid, version)
                for kid, version in self.journal.restore(c, sorted(rotations)).items():
                    self.db.see(c, "rotation", kid, version)
        finally:
            self.db.publishing = True

    def _apply_one(self, c: Any, kid: str, doc: dict[str, Any]) -> None:
        r = doc.get("record") or {}
        c.execute(
            "INSERT INTO keys(id, exchange, label, purpose, fingerprint, key_sha256, created_at, added_at,"
            " updated_at, state, declared_permissions, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET exchange=excluded.exchange, label=excluded.label,"
            " purpose=excluded.purpose, fingerprint=excluded.fingerprint, key_sha256=excluded.key_sha256,"
            " created_at=excluded.created_at, added_at=excluded.added_at, updated_at=excluded.updated_at,"
            " state=excluded.state, declared_permissions=excluded.declared_permissions, note=excluded.note",
            (kid, r["exchange"], r["label"], r["purpose"], r["fingerprint"], r["key_sha256"], r.get("created_at"),
             r["added_at"], r.get("updated_at") or r["added_at"], r.get("state") or "active",
             json.dumps(r["declared_permissions"]) if r.get("declared_permissions") is not None else None,
             r.get("note")),
        )
        c.execute("DELETE FROM exposures WHERE key_id = ?", (kid,))
        for e in r.get("exposures") or []:
            c.execute(
                "INSERT INTO exposures(key_id, service, shared_at, revoked_at, note) VALUES (?,?,?,?,?)",
                (kid, e["service"], e.get("shared_at"), e.get("revoked_at"), e.get("note")),
            )
        c.execute("DELETE FROM inspections WHERE key_id = ?", (kid,))
        for i in reversed(doc.get("inspections") or []):  # stored newest first; ids ascend with time
            c.execute(
                "INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                (kid, i["checked_at"], i["profile"].get("status", "ok"), json.dumps(i["profile"])),
            )

    # ---- cache -> server (inside the cache's transaction) -------------------------------------------------
    def _publish(self, c: Any, key_ids: set[str], rotation_ids: list[int]) -> None:
        # The rotation first: a refused claim must stop the transaction before any metadata goes out.
        for rid in rotation_ids:
            written = self.journal.publish(c, rid)
            if written is not None:
                self.db.see(c, "rotation", *written)
        for kid in sorted(key_ids):
            rec = self.repo.get_key(kid)  # the same connection: sees this transaction's uncommitted rows
            if rec is None:
                self._delete_meta(c, kid)
                self.journal.delete(kid)
                self.db.see(c, "rotation", kid, None)
                continue
            history = self.repo.inspection_history(kid, INSPECTIONS_KEPT)
            doc = {
                "schema": META_SCHEMA,
                "record": record_to_doc(rec),
                "inspections": [{"checked_at": iso(at), "profile": p.to_json()} for at, p in history],
            }
            self._write_meta(c, kid, doc)

    def _known_version(self, kid: str) -> int:
        """The version our copy was made from: what check-and-set compares the server's with. An inspection we
        sent on top of that copy counts as ours (the cache holds it too)."""
        v = self.db.seen_one("meta", kid)
        if v is None:
            return self._meta_current_version(kid)
        with self._bumps_lock:
            base, bumped = self._bumps.get(kid, (None, None))
        return bumped if base == v and bumped is not None else v

    def _meta_current_version(self, kid: str) -> int:
        import hvac.exceptions as hx

        path = f"{META}/{kid}"
        try:
            md = self.client.call(self.client.kv.read_secret_metadata, path, mount_point=self.config.mount,
                                  path=path)
        except hx.InvalidPath:
            return 0
        return int((md.get("data") or {}).get("current_version") or 0)

    def _write_meta(self, c: Any, kid: str, doc: dict[str, Any]) -> None:
        path = f"{META}/{kid}"
        cas = self._known_version(kid)
        try:
            try:
                resp = self.client.call(self.client.kv.create_or_update_secret, path, secret=doc, cas=cas,
                                        mount_point=self.config.mount, path=path)
            except CheckAndSetConflict:
                if not self._wait_inspections(kid):
                    raise
                # Our own inspection landed in between: write on top of it (the cache holds it as well).
                resp = self.client.call(self.client.kv.create_or_update_secret, path, secret=doc,
                                        cas=self._known_version(kid), mount_point=self.config.mount, path=path)
        except CheckAndSetConflict:
            raise ConcurrentChange(
                f"Key {kid} was changed by a teammate in the team vault meanwhile; nothing was written. "
                "The list is refreshed on the next start: look at the key again and repeat the change."
            ) from None
        version = int(resp["data"]["version"])
        self.db.see(c, "meta", kid, version)
        with self._bumps_lock:
            self._bumps.pop(kid, None)
        self.index.set("meta", kid, version)

    def _delete_meta(self, c: Any, kid: str) -> None:
        import hvac.exceptions as hx

        path = f"{META}/{kid}"
        try:
            self.client.call(self.client.kv.delete_metadata_and_all_versions, path,
                             mount_point=self.config.mount, path=path)
        except hx.InvalidPath:
            pass
        self.db.see(c, "meta", kid, None)
        self.index.set("meta", kid, None)
        self.index.set("rotations", kid, None)

    # ---- inspections, sent off the caller's thread -----------------------------------------------------------
    def _defer_inspection(self, kid: str, at: datetime, profile: KeyProfile) -> None:
        with self._bumps_lock:
            if self._publisher is None:
                self._publisher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="team-publish")
            fut = self._publisher.submit(self._publish_inspection, kid, at, profile)
            self._pending[fut] = kid

    def _publish_inspection(self, kid: str, at: datetime, profile: KeyProfile) -> None:
        """Add one inspection to the server's document of the key, merged into what is there now (a teammate's
        edit since our copy is kept, never overwritten by our older copy of the record).

        First without reading the document: the cache holds what the server held at the version we last saw, plus
        this inspection, so that is written with check-and-set against that version. Only when someone wrote in
        between (the write is refused) is the server's document read and the inspection merged into it. An audit
        sends one inspection per key while the exchanges still answer: half the requests, and no large read."""
        entry = {"checked_at": iso(at), "profile": profile.to_json()}
        path = f"{META}/{kid}"
        cached = self._cached_doc(kid)
        for attempt in range(6):
            if attempt == 0 and cached is not None:
                version, doc = cached  # holds this inspection already: the cache recorded it before sending
            else:
                got = self._read_meta(kid)
                if got is None:
                    return  # removed meanwhile
                version, doc = got
                items = list(doc.get("inspections") or [])
                if entry in items:
                    return  # one of our own edits sent the whole cached record, this inspection included
                items.append(entry)
                items.sort(key=lambda i: str(i.get("checked_at") or ""), reverse=True)
                doc["inspections"] = items[:INSPECTIONS_KEPT]
            try:
                resp = self.client.call(self.client.kv.create_or_update_secret, path, secret=doc, cas=version,
                                        mount_point=self.config.mount, path=path)
            except CheckAndSetConflict:
                continue  # another inspection or a teammate's edit landed first: merge into that
            new = int(resp["data"]["version"])
            with self._bumps_lock:
                base, bumped = self._bumps.get(kid, (None, None))
                if bumped == version:  # the version before ours was our previous inspection
                    self._bumps[kid] = (base, new)  # type: ignore[assignment]
                else:
                    self._bumps[kid] = (version, new)
            self.index.defer("meta", kid, new)  # one index write for the whole audit, at flush_publishing
            return
        raise ConcurrentChange(f"Key {kid}: the inspection could not be added in the team vault (too many "
                               "concurrent changes); it is kept in the local cache.")

    def _cached_doc(self, kid: str) -> tuple[int, dict[str, Any]] | None:
        """The key's metadata document as the cache holds it (``_publish``'s shape, the inspections as stored),
        with the version the server holds it at as far as this cache knows; None when it knows none."""
        with self.db._lock:
            version = self.db.seen_one("meta", kid)
            if version is None:
                return None
            with self._bumps_lock:
                base, bumped = self._bumps.get(kid, (None, None))
            rec = self.repo.get_key(kid)
            rows = self.db.query("SELECT checked_at, profile FROM inspections WHERE key_id = ? ORDER BY id DESC "
                                 "LIMIT ?", (kid, INSPECTIONS_KEPT))
        if rec is None:
            return None
        doc = {"schema": META_SCHEMA, "record": record_to_doc(rec),
               "inspections": [{"checked_at": r[0], "profile": json.loads(r[1])} for r in rows]}
        return (bumped if base == version and bumped is not None else version), doc

    def _wait_inspections(self, kid: str) -> bool:
        with self._bumps_lock:
            mine = [f for f, k in self._pending.items() if k == kid]
        for f in mine:
            try:
                f.result()
            except Exception:
                pass
        return bool(mine)

    def flush_publishing(self) -> list[str]:
        """Wait for the inspections still on their way to the server; one line per one that failed."""
        with self._bumps_lock:
            pending = dict(self._pending)
        errors: list[str] = []
        for fut, kid in pending.items():
            try:
                fut.result()
            except Exception as exc:
                log.warning("the inspection of %s did not reach the team vault: %s", kid, redact.scrub(exc))
                errors.append(f"{kid}: the result could not be saved in the team vault, only in this machine's cache "
                              f"({redact.scrub(exc)})")
        with self._bumps_lock:
            for fut in pending:
                self._pending.pop(fut, None)
        try:
            self.index.flush()
        except Exception as exc:  # the documents are written; only warm caches notice them later
            log.warning("the team vault's index could not be updated: %s", redact.scrub(exc))
            errors.append(f"the team vault's index could not be updated ({redact.scrub(exc)}); teammates see these "
                          "results after their next full refresh")
        return errors

    def close(self) -> None:
        self.flush_publishing()
        if self._publisher is not None:
            self._publisher.shutdown(wait=True)
            self._publisher = None
        with self._bumps_lock:
            local, self._local = self._local, None
        if local is not None:
            local.db.close()
        super().close()

    # ---- this machine's settings ------------------------------------------------------------------------------
    # The window's preferences and the policy are this machine's, as with the local vault: kept in the local
    # database, not in the cache, so a deleted cache or a disconnect loses none of them and the window keeps them
    # when it switches backends. (The cache's own bookkeeping, REFRESHED_SETTING, stays in the cache.)
    def _local_settings(self) -> Repository:
        with self._bumps_lock:
            if self._local is None:
                self._local = Repository(Database(self.paths.database))
            return self._local

    def get_setting(self, name: str, default: Any = None) -> Any:
        return self._local_settings().get_setting(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        self._local_settings().set_setting(name, value)

    def credentials_many(self, key_ids: Sequence[str]) -> dict[str, Credentials | None | KeychainCorrupt]:
        """In parallel: each read is two round trips to the server, and an audit reads every key's."""
        def one(kid: str) -> Credentials | None | KeychainCorrupt:
            try:
                return self.credentials(kid)
            except KeychainCorrupt as exc:
                return exc

        if not key_ids:
            return {}
        with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(key_ids))) as pool:
            return dict(zip(key_ids, pool.map(one, key_ids), strict=True))

    def read_credentials_ahead(self, key_ids: Sequence[str]) -> SecretReads:
        """Read these keys' secrets in this order on a few threads, a bounded way ahead of the checks that ask for
        them (``SecretReads``): the audit asks for each key's secret just before its check, so the reads overlap
        the exchanges' round trips instead of all preceding them."""
        return SecretReads(self.credentials, key_ids, AHEAD_THREADS, READ_AHEAD)

    # ---- the Vault's writes that need the server's view ---------------------------------------------------
    def add_key(self, *args: Any, **kwargs: Any) -> KeyRecord:
        # A teammate may have stored the same key since our last refresh: the duplicate check reads the server.
        if not self.refreshed:
            self.refresh()
        return super().add_key(*args, **kwargs)

    def import_record(self, rec: KeyRecord, creds: Credentials,
                      inspections: list[tuple[datetime, KeyProfile]]) -> KeyRecord:
        """Store a local key here under its own id, with its sharings and inspections (``team import``).

        All or nothing, as ``add_key``: the secret first, then the record and inspections in one cache
        transaction that publishes the metadata before it commits; a refusal removes the secret again."""
        redact.remember(creds.secret_values())
        self.secrets.put(rec.id, creds, CURRENT)
        try:
            with self.db.transaction() as c:
                c.execute("DELETE FROM keys WHERE id = ?", (rec.id,))  # a half-done earlier attempt's row
                self.repo.insert_key(c, rec)
                for at, profile in reversed(inspections):  # history is newest first; ids ascend with time
                    c.execute(
                        "INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                        (rec.id, iso(at), str(profile.status), json.dumps(profile.to_json())),
                    )
        except BaseException:
            try:
                self.secrets.delete(rec.id, CURRENT)
            except Exception:
                log.exception("could not remove the team vault secret of %s after a failed import", rec.id)
            raise
        return self.get_key(rec.id)

    def read_record(self, key_id: str) -> KeyRecord | None:
        """The key's record as the server holds it now (not the cache): what ``team import`` verifies."""
        got = self._read_meta(key_id)
        if got is None:
            return None
        return record_from_doc(got[1].get("record") or {})


class SecretReads:
    """Reads of many keys' secrets in a given order on a bounded pool, at most ``ahead`` beyond the last key asked
    for (``future``): the first ``ahead`` at once, then each key asked for moves the window on. A key asked for
    out of turn is read at once. A read answers its key's ``Credentials``, None (no secret) or the
    ``KeychainCorrupt`` that made it unreadable; anything else it raises (the server went away:
    ``TeamUnavailable``) comes out of the key's future. ``stop()`` ends the reading: the reads not started yet
    answer None; the secrets already read live only in their futures.

    Why bounded: read all at once, 200 reads took this process's CPU (and the server's, on a 2-core machine) exactly
    while the checks that bound the audit were being started (tests/benchmarks, team_audit)."""

    def __init__(self, read: Callable[[str], Credentials | None], key_ids: Sequence[str], threads: int,
                 ahead: int) -> None:
        self._read = read
        self._order = list(dict.fromkeys(key_ids))
        self._position = {k: i for i, k in enumerate(self._order)}
        self._ahead = max(1, ahead)
        self._lock = threading.Lock()
        self._stopped = False
        self._next = 0  # the first position in the order not handed to the pool yet
        self._futures: dict[str, Future[Credentials | None | KeychainCorrupt]] = {k: Future() for k in self._order}
        self._sent: set[str] = set()
        self._pool = (ThreadPoolExecutor(max_workers=min(threads, len(self._order)),
                                         thread_name_prefix="team-secrets") if self._order else None)
        with self._lock:
            self._send_through(self._ahead - 1)

    def future(self, key_id: str) -> Future[Credentials | None | KeychainCorrupt]:
        """The key's read (started now if it was not), and the reads up to ``ahead`` keys after it."""
        with self._lock:
            self._send(key_id)
            self._send_through(self._position[key_id] + self._ahead)
        return self._futures[key_id]

    def started(self) -> int:
        """How many reads were handed to the pool so far (tests: the bound)."""
        with self._lock:
            return len(self._sent)

    def _send_through(self, last: int) -> None:
        while self._next <= min(last, len(self._order) - 1):
            self._send(self._order[self._next])
            self._next += 1

    def _send(self, key_id: str) -> None:
        if key_id in self._sent or self._pool is None:
            return
        self._sent.add(key_id)
        if self._stopped:
            self._futures[key_id].set_result(None)
            return
        self._pool.submit(self._one, key_id)

    def _one(self, key_id: str) -> None:
        fut = self._futures[key_id]
        if self._stopped:
            fut.set_result(None)
            return
        try:
            fut.set_result(self._read(key_id))
        except KeychainCorrupt as exc:
            fut.set_result(exc)
        except BaseException as exc:  # the server went away: the check that awaits it says so
            fut.set_exception(exc)

    def stop(self) -> None:
        """No more reads: the ones not started answer None; the pool's threads end with the reads in progress."""
        with self._lock:
            self._stopped = True
            for key_id in self._order:
                if key_id not in self._sent:
                    self._sent.add(key_id)
                    self._futures[key_id].set_result(None)
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def record_to_doc(rec: KeyRecord) -> dict[str, Any]:
    """The record as the team vault stores it: every field the cache row has (to_json is the CLI's shape)."""
    return {
        "id": rec.id,
        "exchange": rec.exchange,
        "label": rec.label,
        "purpose": rec.purpose,
        "fingerprint": rec.fingerprint,
        "key_sha256": rec.key_sha256,
        "created_at": iso(rec.created_at),
        "added_at": iso(rec.added_at),
        "updated_at": iso(rec.updated_at),
        "state": rec.state,
        "declared_permissions": rec.declared_permissions,
        "note": rec.note,
        "exposures": [e.to_json() for e in rec.exposures],
    }


def record_from_doc(d: dict[str, Any]) -> KeyRecord:
    added = parse_iso(d["added_at"])
    assert added is not None
    return KeyRecord(
        id=d["id"], exchange=d["exchange"], label=d["label"], purpose=d["purpose"], fingerprint=d["fingerprint"],
        key_sha256=d["key_sha256"], created_at=parse_iso(d.get("created_at")), added_at=added,
        updated_at=parse_iso(d.get("updated_at")) or added, state=d.get("state") or "active",
        declared_permissions=d.get("declared_permissions"), note=d.get("note"),
        exposures=[Exposure(service=e["service"],
                            shared_at=date.fromisoformat(e["shared_at"]) if e.get("shared_at") else None,
                            revoked_at=date.fromisoformat(e["revoked_at"]) if e.get("revoked_at") else None,
                            note=e.get("note")) for e in d.get("exposures") or []],
    )
