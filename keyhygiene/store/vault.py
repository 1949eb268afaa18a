"""The vault: one data dir's metadata plus its keychain namespace, and the operations that touch both.

A key is either fully stored (keychain entry and metadata row) or not at all, even if the process is killed
half-way (issue 18): a row in state ``adding`` is committed first, then the secret goes into the keychain, then the
row becomes ``active``. A failure removes both; a kill leaves an ``adding`` row, which names the keychain entry
that may or may not have been written: ``doctor`` reports it, ``doctor --repair`` finishes or removes it, and
adding the same key again takes it over. Nothing can leave a secret that no row points to.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import PURPOSES, Exposure, KeyRecord
from keyhygiene.core.timeutil import utcnow

# The validation types are core's; re-exported here for the store's callers and tests.
from keyhygiene.core.validation import (
    MAX_LABEL,
    MAX_SERVICE,
    ExchangeCatalog,
    NotFound,
    ServiceRef,
    ValidationError,
    validate_credentials,
    validate_metadata,
    validated_label,
    validated_text,
)
from keyhygiene.paths import AppPaths
from keyhygiene.store.database import Database, DatabaseError
from keyhygiene.store.keychain import CURRENT, SLOTS, KeychainCorrupt, KeychainTimeout, SecretStore
from keyhygiene.store.repository import ADDING, Repository, new_key_id

if TYPE_CHECKING:  # annotations only: keyring loads on the first keychain call (store/keychain.py)
    import keyring.backend

    from keyhygiene.core.credentials import Credentials
    from keyhygiene.core.models import KeyProfile, StoredProfile
    from keyhygiene.core.report.rotations import RotationEntry
    from keyhygiene.core.rotation.journal import JournalHook
    from keyhygiene.store.rotation_journal import SqliteJournal

__all__ = ["MAX_LABEL", "MAX_SERVICE", "NotFound", "ServiceRef", "ValidationError", "Vault", "validated_label",
           "validated_text"]

log = logging.getLogger(__name__)


class _LenientCatalog:
    """A vault opened without the exchange layer's catalog (tools, tests of the store alone) cannot ask ccxt: it
    takes any exchange id and leaves the passphrase check to the service, which always passes the real catalog."""

    @staticmethod
    def is_known(exchange_id: str) -> bool:
        return bool(exchange_id)

    @staticmethod
    def needs_passphrase(exchange_id: str) -> bool:
        return False


def read_vault_ids(paths: AppPaths) -> list[str]:
    """The ids in ``vault-id``, newest first; [] when there is none or it cannot be read."""
    try:
        text = paths.vault_id_file.read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    ids = [line.strip() for line in text.splitlines()]
    return [i for i in dict.fromkeys(ids) if i and i.isalnum() and len(i) <= 64]


def remember_vault_id(paths: AppPaths, repo: Repository) -> str:
    """The database's vault id, kept in ``vault-id`` beside it too. A new database takes the id its lost
    predecessor used, so that predecessor's keychain entries are in this vault's namespace, ready for adoption."""
    known = read_vault_ids(paths)
    vid = repo.vault_id(preferred=known[0] if known else None)
    if not known or known[0] != vid:
        ids = [vid, *[i for i in known if i != vid]]
        tmp = paths.vault_id_file.with_name(paths.vault_id_file.name + ".tmp")
        try:
            tmp.write_text("".join(f"{i}\n" for i in ids), encoding="ascii")
            os.replace(tmp, paths.vault_id_file)
        except OSError as exc:  # the vault works without it; doctor just cannot find orphans of a lost database
            log.warning("could not write %s: %s", paths.vault_id_file, exc)
    return vid


def _default_resolver(name: str) -> str:
    return name.strip().lower()


class Vault:
    # Which exchanges exist and need a passphrase: ccxt's facts, handed in by the service (the store never imports
    # the exchange layer); a vault opened without them is lenient (``_LenientCatalog``).
    catalog: ExchangeCatalog = _LenientCatalog()
    # The team vault (store/team_vault.py) says so, and why its server cannot be used now (its cache is then shown
    # read-only); the local vault is never offline in that sense (a locked keychain is the keychain's status).
    is_team = False
    offline: Exception | None = None

    def __init__(
        self,
        paths: AppPaths,
        backend: keyring.backend.KeyringBackend | None = None,
        service_resolver: Callable[[str], str] | None = None,
        catalog: ExchangeCatalog | None = None,
    ) -> None:
        self.paths = paths
        if catalog is not None:
            self.catalog = catalog
        self.warnings: list[str] = []
        try:
            self.warnings = paths.ensure()
        except OSError as exc:
            raise DatabaseError(
                f"The data folder {paths.data_dir} cannot be used ({exc.strerror or exc}). Check its permissions "
                "or choose another data folder with --data-dir."
            ) from None
        for w in self.warnings:
            log.warning("%s", w)
        self.db = Database(paths.database)
        try:
            self.repo = Repository(self.db)
            self.secrets = SecretStore(remember_vault_id(paths, self.repo), backend)
        except BaseException:
            self.db.close()
            raise
        # The exposure registry plugs in here to turn aliases ("3Commas", "three commas") into ids.
        self.resolve_service = service_resolver or _default_resolver

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- validation ---------------------------------------------------------------------------------------
    def validate(self, exchange: str, label: str, purpose: str, creds: Credentials) -> tuple[str, str]:
        ex, lab = validate_metadata(exchange, label, purpose, self.catalog)
        validate_credentials(ex, creds, self.catalog)
        return ex, lab

    # ---- keys ---------------------------------------------------------------------------------------------
    def add_key(
        self,
        exchange: str,
        label: str,
        creds: Credentials,
        purpose: str = "other",
        shared_with: Sequence[ServiceRef] = (),
        created_at: datetime | None = None,
        declared_permissions: list[str] | None = None,
        note: str | None = None,
    ) -> KeyRecord:
        redact.remember(creds.secret_values())
        ex, lab = self.validate(exchange, label, purpose, creds)
        digest = key_digest(ex, creds.api_key)
        existing = self.repo.find_by_digest(digest)
        if existing is not None and existing.state == ADDING:
            # An add of this very key was interrupted: whatever it left in the keychain is replaced below.
            self._drop_unfinished(existing.id)
            existing = None
        if existing is not None:
            raise ValidationError(
                "api_key", f"This API key is already stored as {existing.id} ({existing.label!r})."
            )
        self.secrets.require()
        now = utcnow()
        rec = KeyRecord(
            id=new_key_id(),
            exchange=ex,
            label=lab,
            purpose=purpose,
            fingerprint=mask_key(creds.api_key),
            key_sha256=digest,
            created_at=created_at,
            added_at=now,
            updated_at=now,
            state=ADDING,
            declared_permissions=declared_permissions,
            note=note,
            exposures=[Exposure(service=self.resolve_service(s.service), shared_at=s.day) for s in shared_with],
        )
        try:
            with self.db.transaction() as c:
                self.repo.insert_key(c, rec)
        except sqlite3.IntegrityError:
            # Another process stored the same key between our duplicate check and this insert.
            raise ValidationError("api_key", "This API key is already stored in this vault.") from None
        try:
            self.secrets.put(rec.id, creds, CURRENT, meta={"exchange": ex, "label": lab})
            with self.db.transaction() as c:
                self.repo.update_key(c, rec.id, state="active")
        except KeychainTimeout:
            # The keychain may still carry the write out when it wakes up: keep the row that names the entry,
            # so `doctor` can find it (list_keys hides unfinished adds).
            log.warning("keychain did not answer while adding key %s; left as an unfinished add", rec.id)
            raise
        except BaseException:
            self._drop_unfinished(rec.id)
            raise
        log.info("key %s added (%s, %s)", rec.id, ex, rec.fingerprint)
        return self.repo.get_key(rec.id) or rec

    def _drop_unfinished(self, key_id: str) -> None:
        """Remove an unfinished add: the keychain entry first, then the row (the row is what finds the entry)."""
        try:
            self.secrets.delete(key_id, CURRENT)
        except Exception:
            log.exception("could not remove keychain entry of unfinished key %s; kept its row for doctor", key_id)
            return
        try:
            with self.db.transaction() as c:
                self.repo.delete_key(c, key_id)
        except Exception:
            log.exception("could not remove the row of unfinished key %s", key_id)

    def get_key(self, key_id: str) -> KeyRecord:
        rec = self.repo.get_key(key_id)
        if rec is None:
            raise NotFound(f"No key with id {key_id!r} in this vault (see `keyhygiene keys list`).")
        return rec

    def list_keys(self) -> list[KeyRecord]:
        return self.repo.list_keys()

    def credentials(self, key_id: str, slot: str = CURRENT) -> Credentials | None:
        return self.secrets.get(key_id, slot)

    # ---- what the vault remembers: the service's surface, answered alike by the team vault's cache -----------
    def find_key(self, key_id: str) -> KeyRecord | None:
        """The key's record, None when there is none (``get_key`` raises NotFound)."""
        return self.repo.get_key(key_id)

    def latest_inspections(self) -> dict[str, tuple[datetime, KeyProfile]]:
        return self.repo.latest_inspections()

    def latest_stored_inspections(self) -> dict[str, tuple[datetime, StoredProfile]]:
        return self.repo.latest_stored_inspections()

    def inspection_history(self, key_id: str, limit: int = 50) -> list[tuple[datetime, KeyProfile]]:
        return self.repo.inspection_history(key_id, limit)

    def record_inspection(self, key_id: str, profile: KeyProfile, at: datetime | None = None) -> None:
        self.repo.record_inspection(key_id, profile, at or utcnow())

    def get_setting(self, name: str, default: Any = None) -> Any:
        return self.repo.get_setting(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        self.repo.set_setting(name, value)

    def last_rotation_day(self, key_id: str) -> date | None:
        """The day the key's latest completed rotation finished (the rules' ``rotated_on``); None: never."""
        from keyhygiene.core.report.rotations import last_rotation_day

        return last_rotation_day(self.db, key_id)

    def rotation_entries(self, labels: dict[str, str]) -> list[RotationEntry]:
        """Every rotation, newest first, as the report lists them."""
        from keyhygiene.core.report.rotations import read_rotations

        return read_rotations(self.db, labels)

    # ---- what a rotation reads (core.rotation.journal.RotationVault) ---------------------------------------
    def find_by_digest(self, digest: str) -> KeyRecord | None:
        return self.repo.find_by_digest(digest)

    def latest_inspection(self, key_id: str) -> tuple[datetime, KeyProfile] | None:
        return self.repo.latest_inspection(key_id)

    def validate_credentials(self, exchange: str, creds: Credentials) -> None:
        validate_credentials(exchange, creds, self.catalog)

    def rotation_journal(self, hook: JournalHook | None = None) -> SqliteJournal:
        """The rotation journal of this vault (its ``rotations`` tables), behind core's ``JournalStore``."""
        from keyhygiene.store.rotation_journal import SqliteJournal

        return SqliteJournal(self.db, hook, repo=self.repo)

    def credentials_many(self, key_ids: Sequence[str]) -> dict[str, Credentials | None | KeychainCorrupt]:
        """Each key's current credentials, None when missing, or the KeychainCorrupt that says why this one key's
        secret cannot be read. A KeychainError (locked, unavailable) propagates: it concerns every key. The team
        vault reads these in parallel; the keychain one by one (each call may be an unlock prompt)."""
        out: dict[str, Credentials | None | KeychainCorrupt] = {}
        for kid in key_ids:
            try:
                out[kid] = self.credentials(kid)
            except KeychainCorrupt as exc:
                out[kid] = exc
        return out

    def remove_key(self, key_id: str) -> KeyRecord:
        """Delete the keychain entries first: a crash after that leaves a row without secret, which the UI
        shows as 'secret missing', never a secret without a row that nothing would ever clean up."""
        rec = self.get_key(key_id)
        self.secrets.require()
        for slot in SLOTS:
            self.secrets.delete(key_id, slot)
        with self.db.transaction() as c:
            self.repo.delete_key(c, key_id)
        log.info("key %s removed", key_id)
        return rec

    def update_key(self, key_id: str, **fields: object) -> KeyRecord:
        self.get_key(key_id)
        if "label" in fields:
            fields["label"] = validated_label(str(fields["label"]))
        if "purpose" in fields and fields["purpose"] not in PURPOSES:
            raise ValidationError("purpose", f"Unknown purpose {fields['purpose']!r}.")
        with self.db.transaction() as c:
            self.repo.update_key(c, key_id, **fields)
        return self.get_key(key_id)

    # ---- exposures ----------------------------------------------------------------------------------------
    def share(self, key_id: str, ref: ServiceRef, note: str | None = None) -> KeyRecord:
        rec = self.get_key(key_id)
        service = self.resolve_service(ref.service)
        if any(e.active and e.service == service for e in rec.exposures):
            raise ValidationError("shared_with", f"Key {key_id} is already recorded as shared with {service}.")
        with self.db.transaction() as c:
            self.repo.insert_exposure(c, key_id, Exposure(service=service, shared_at=ref.day, note=note))
        return self.get_key(key_id)

    def unshare(self, key_id: str, ref: ServiceRef) -> KeyRecord:
        rec = self.get_key(key_id)
        service = self.resolve_service(ref.service)
        active = [e for e in rec.exposures if e.active and e.service == service]
        if not active:
            raise ValidationError("shared_with", f"Key {key_id} is not currently shared with {service}.")
        end = ref.day or utcnow().date()
        for e in active:
            if e.shared_at and end < e.shared_at:
                raise ValidationError("shared_with", f"The end date {end} is before the sharing began ({e.shared_at}).")
        with self.db.transaction() as c:
            for e in active:
                assert e.id is not None
                self.repo.end_exposure(c, e.id, end)
        return self.get_key(key_id)
