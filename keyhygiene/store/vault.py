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
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from keyhygiene.core import redact
from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import PURPOSES, Credentials, Exposure, KeyRecord
from keyhygiene.core.timeutil import parse_day, utcnow
from keyhygiene.paths import AppPaths
from keyhygiene.store.database import Database, DatabaseError
from keyhygiene.store.keychain import (
    CURRENT,
    MAX_SECRET_BYTES,
    SLOTS,
    KeychainCorrupt,
    KeychainTimeout,
    SecretStore,
)
from keyhygiene.store.repository import ADDING, Repository, new_key_id

if TYPE_CHECKING:  # annotations only: keyring loads on the first keychain call (store/keychain.py)
    import keyring.backend

log = logging.getLogger(__name__)
MAX_LABEL = 200
# Control and format characters (newline, tab, escape, bidi overrides, …) and the Unicode line/paragraph separators:
# a label is shown on one line of a table or a terminal, and these would break the row or disguise the text.
_LABEL_FORBIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Lone surrogates: how Python carries bytes that are not UTF-8 (argv, environment) into a str.
_NOT_UTF8 = "Cs"
MAX_SERVICE = MAX_LABEL


class ValidationError(ValueError):
    """Bad input from the user. ``field`` names the input so the UI can put the message next to it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class ServiceRef:
    """A consumer as the user named it, e.g. ``3commas@2022-05-01``."""

    service: str
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> ServiceRef:
        raw = text.strip()
        name, sep, day = raw.rpartition("@") if "@" in raw else (raw, "", "")
        if not name.strip():
            raise ValidationError("shared_with", f"No service named in {text!r}.")
        parsed: date | None = None
        if sep:
            try:
                parsed = parse_day(day)
            except ValueError:
                raise ValidationError(
                    "shared_with", f"{day.strip()!r} in {raw!r} is not a date in YYYY-MM-DD form."
                ) from None
        return cls(service=name, day=parsed).validated()

    def validated(self) -> ServiceRef:
        """The same reference with its name trimmed; ValidationError if it names nothing or is dated later than
        today. For references built from separate fields (the app's dialogs), whose names may contain "@"."""
        name = self.service.strip()
        if not name:
            raise ValidationError("shared_with", "No service named.")
        validated_text("shared_with", "service name", name, MAX_SERVICE)
        if self.day is not None and self.day > utcnow().date():
            raise ValidationError("shared_with", f"The date {self.day} is in the future.")
        return ServiceRef(service=name, day=self.day)


def validated_label(label: str) -> str:
    """The label trimmed; ValidationError if it is empty, too long or holds a control character. One rule for
    adding a key and for renaming it (the app's edit dialog), so a rename cannot bring back what add refuses."""
    lab = label.strip()
    if not lab:
        raise ValidationError("label", "The label is empty: give the key a name you will recognise.")
    return validated_text("label", "label", lab, MAX_LABEL)


def validated_text(field: str, what: str, text: str, max_len: int) -> str:
    """One line of plain text: valid UTF-8, no control or format characters, at most ``max_len`` characters.
    Labels and service names share it (issue 18: a service name once took escapes and megabytes)."""
    if len(text) > max_len:
        raise ValidationError(field, f"The {what} has {len(text)} characters; at most {max_len} are allowed.")
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == _NOT_UTF8:
            raise ValidationError(field, f"The {what} is not valid UTF-8 text: type it again.")
        if cat in _LABEL_FORBIDDEN:
            raise ValidationError(
                field, f"The {what} contains a control character (U+{ord(ch):04X}): use one line of plain text."
            )
    return text


def _check_key_text(field: str, what: str, value: str) -> None:
    """An API key or passphrase is one token: a line break, ESC or NUL inside means a bad paste of *that* field
    (and would otherwise surface later as a signing failure blamed on the secret)."""
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == _NOT_UTF8:
            raise ValidationError(field, f"The {what} is not valid UTF-8 text: paste it again.")
        if cat in _LABEL_FORBIDDEN:
            kind = "a line break" if ch in "\r\n\u2028\u2029\x85" else f"a control character (U+{ord(ch):04X})"
            raise ValidationError(field, f"The {what} contains {kind}: paste just the {what}, on one line.")


def validate_metadata(exchange: str, label: str, purpose: str) -> tuple[str, str]:
    """Check what the user typed about a key (before asking for its secrets); returns (exchange id, label)."""
    from keyhygiene.exchanges import catalog

    ex = exchange.strip().lower()
    if not ex or not catalog.is_known(ex):
        raise ValidationError(
            "exchange", f"Unknown exchange {exchange!r}: use a ccxt exchange id such as binance, okx or kraken."
        )
    lab = validated_label(label)
    if purpose not in PURPOSES:
        raise ValidationError("purpose", f"Unknown purpose {purpose!r}: one of {', '.join(PURPOSES)}.")
    return ex, lab


def validate_credentials(exchange: str, creds: Credentials) -> None:
    """Messages name the field, never its value."""
    from keyhygiene.exchanges import catalog

    if not creds.api_key.strip():
        raise ValidationError("api_key", "The API key is empty.")
    if creds.api_key == creds.api_key.strip():  # spaces around it have their own message below
        _check_key_text("api_key", "API key", creds.api_key)
    if creds.passphrase:
        _check_key_text("passphrase", "passphrase", creds.passphrase)
    if not creds.secret.strip():
        raise ValidationError("secret", "The API secret is empty.")
    if creds.api_key != creds.api_key.strip():
        raise ValidationError("api_key", "The API key has spaces or line breaks around it; paste it again.")
    if catalog.needs_passphrase(exchange) and not (creds.passphrase or "").strip():
        raise ValidationError(
            "passphrase", f"{catalog.display_name(exchange)} keys have a passphrase: it is needed to use the key."
        )
    fields = {"api_key": creds.api_key, "secret": creds.secret, "passphrase": creds.passphrase or "", **creds.extra}
    for name, value in fields.items():
        if len(value.encode()) > MAX_SECRET_BYTES:
            raise ValidationError(name, f"The {name.replace('_', ' ')} is longer than 8 KB.")


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
    def __init__(
        self,
        paths: AppPaths,
        backend: keyring.backend.KeyringBackend | None = None,
        service_resolver: Callable[[str], str] | None = None,
    ) -> None:
        self.paths = paths
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
        ex, lab = validate_metadata(exchange, label, purpose)
        validate_credentials(ex, creds)
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
