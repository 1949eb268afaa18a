"""A key's secrets in the team vault: ``<mount>/data/keys/<key id>``, with rotation stages as KV versions.

The same interface as the keychain's ``SecretStore`` (status, require, put, get, has, delete, move), so the rotation
machine, the audit and the importer work unchanged. The slots are staging labels, the way AWS Secrets Manager does
it: the path's custom metadata says which KV version is ``current``, which is ``pending`` (a rotation's new key)
and which was current before (``previous``). Writing a slot adds a version (check-and-set against the version we
read, so a teammate's concurrent write is never overwritten) and moves the label last: a write that stops half-way
leaves the old label, and so the old value, in place. Promoting a pending key whose value is already a version
moves the label instead of writing the secret again.

Only labelled versions keep their data. A version that loses its label (the old current after a rotation, a
replaced pending key, a version left unlabelled by a crash) is destroyed, as DESIGN.md wants the old secret gone
once the rotation is done; ``previous`` still names its number, so the history shows what was current before.
When no slot is left the whole path is deleted, metadata included.
"""

from __future__ import annotations

import threading
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials
from keyhygiene.store.keychain import (
    CURRENT,
    MAX_ENTRY_BYTES,
    PENDING,
    SLOTS,
    KeychainCorrupt,
    KeychainState,
    KeychainStatus,
)
from keyhygiene.store.team_client import KEYS, CheckAndSetConflict, TeamClient, TeamReason, TeamUnavailable

PREVIOUS = "previous"
LABELS = (*SLOTS, PREVIOUS)


class _Named:
    """What ``keychain.backend_name`` reads: the team vault shows up as "team vault URL (mount)"."""

    def __init__(self, name: str) -> None:
        self.name = name


class TeamSecretStore:
    def __init__(self, client: TeamClient) -> None:
        self.client = client
        self.backend = _Named(client.cfg.display)
        self._lock = threading.RLock()

    # ---- status -------------------------------------------------------------------------------------------
    def status(self) -> KeychainStatus:
        reason, _token = self.client.probe()
        if reason is TeamReason.OK:
            return KeychainStatus(KeychainState.AVAILABLE, self.backend.name, "The team vault is ready.")
        return TeamUnavailable(reason, self.client.cfg).status

    def require(self) -> KeychainStatus:
        reason, _token = self.client.probe()
        if reason is not TeamReason.OK:
            raise TeamUnavailable(reason, self.client.cfg)
        return KeychainStatus(KeychainState.AVAILABLE, self.backend.name, "The team vault is ready.")

    # ---- labels -------------------------------------------------------------------------------------------
    def _path(self, key_id: str) -> str:
        if not key_id or "/" in key_id or key_id in (".", ".."):
            raise ValueError(f"not a key id: {key_id!r}")
        return f"{KEYS}/{key_id}"

    def _metadata(self, key_id: str) -> dict[str, Any] | None:
        import hvac.exceptions as hx

        path = self._path(key_id)
        try:
            # A key's labels are as secret as the key for the roles: a 403 here is "your role cannot read secrets".
            md = self.client.call(self.client.kv.read_secret_metadata, path, mount_point=self.client.cfg.mount,
                                  path=path, secret_key=key_id)
        except hx.InvalidPath:
            return None
        return dict(md.get("data") or {})

    @staticmethod
    def _labels(md: dict[str, Any] | None) -> dict[str, int]:
        cm = (md or {}).get("custom_metadata") or {}
        out: dict[str, int] = {}
        for name in LABELS:
            try:
                if cm.get(name):
                    out[name] = int(cm[name])
            except (TypeError, ValueError):
                raise KeychainCorrupt("A team vault entry has an unreadable stage label.") from None
        return out

    def _set_labels(self, key_id: str, md: dict[str, Any] | None, labels: dict[str, int]) -> None:
        path = self._path(key_id)
        self.client.call(self.client.kv.update_metadata, path, mount_point=self.client.cfg.mount,
                         custom_metadata={k: str(v) for k, v in labels.items()}, path=path)
        # Destroy every version that holds data and carries no current/pending label: the old current, a replaced
        # pending key, a version a crash left unlabelled. The labels were moved first, so nothing in use goes.
        keep = {v for k, v in labels.items() if k != PREVIOUS}
        versions = (md or {}).get("versions") or {}
        stale = sorted(int(v) for v, info in versions.items() if int(v) not in keep and not info.get("destroyed"))
        if stale:
            self.client.call(self.client.kv.destroy_secret_versions, path, stale,
                             mount_point=self.client.cfg.mount, path=path)

    def _read_version(self, key_id: str, version: int, slot: str) -> Credentials | None:
        import hvac.exceptions as hx

        path = self._path(key_id)
        try:
            resp = self.client.call(self.client.kv.read_secret_version, path, version=version,
                                    mount_point=self.client.cfg.mount, raise_on_deleted_version=True,
                                    path=path, secret_key=key_id)
        except hx.InvalidPath:
            raise KeychainCorrupt(
                f"The team vault entry of key {key_id} ({slot}) points at version {version}, which is gone."
            ) from None
        return self._parse(key_id, slot, ((resp or {}).get("data") or {}).get("data"))

    @staticmethod
    def _parse(key_id: str, slot: str, data: Any) -> Credentials:
        try:
            creds = Credentials.from_dict(data or {})  # no data: a KeyError below, reported as not readable
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeychainCorrupt(f"The team vault entry of key {key_id} ({slot}) is not readable.") from None
        redact.remember(creds.secret_values())
        return creds

    # ---- entries ------------------------------------------------------------------------------------------
    def get(self, key_id: str, slot: str = CURRENT) -> Credentials | None:
        """One round trip in the common case: the newest version's answer carries the path's custom metadata,
        and outside a rotation the newest version is the current one. Otherwise the labelled version is read."""
        import hvac.exceptions as hx

        _check_slot(slot)
        path = self._path(key_id)
        try:
            resp = self.client.call(self.client.kv.read_secret_version, path, mount_point=self.client.cfg.mount,
                                    raise_on_deleted_version=True, path=path, secret_key=key_id)
        except hx.InvalidPath:
            # No such key, or its newest version was destroyed (a dropped pending key): ask the labels.
            version = self._labels(self._metadata(key_id)).get(slot)
            return None if version is None else self._read_version(key_id, version, slot)
        data = (resp or {}).get("data") or {}
        md = data.get("metadata") or {}
        version = self._labels({"custom_metadata": md.get("custom_metadata")}).get(slot)
        if version is None:
            return None
        if int(md.get("version") or 0) == version and data.get("data") is not None:
            return self._parse(key_id, slot, data.get("data"))
        return self._read_version(key_id, version, slot)

    def has(self, key_id: str, slot: str = CURRENT) -> bool:
        _check_slot(slot)
        return slot in self._labels(self._metadata(key_id))

    def put(self, key_id: str, creds: Credentials, slot: str = CURRENT,
            meta: dict[str, str] | None = None) -> None:
        """``meta`` is the keychain's way to re-adopt an entry whose row was lost; here the key's metadata has its
        own document on the server (meta/<id>), so it is not repeated beside the secret."""
        _check_slot(slot)
        redact.remember(creds.secret_values())
        doc = creds.to_dict()
        import json

        if len(json.dumps(doc).encode()) > MAX_ENTRY_BYTES:
            raise ValueError("These credentials are larger than a vault entry may hold.")
        path = self._path(key_id)
        with self._lock:
            for attempt in range(3):
                md = self._metadata(key_id)
                labels = self._labels(md)
                pending = labels.get(PENDING)
                if slot == CURRENT and pending is not None and self._same(key_id, pending, creds):
                    new = pending  # promotion: the pending version becomes current, no second copy
                else:
                    try:
                        resp = self.client.call(self.client.kv.create_or_update_secret, path, secret=doc,
                                                cas=int((md or {}).get("current_version") or 0),
                                                mount_point=self.client.cfg.mount, path=path)
                    except CheckAndSetConflict:
                        if attempt == 2:
                            raise
                        continue  # a teammate wrote in between: read again and retry on top of it
                    new = int(resp["data"]["version"])
                    md = self._metadata(key_id)
                self._relabel(labels, slot, new)
                self._set_labels(key_id, md, labels)
                return

    def _same(self, key_id: str, version: int, creds: Credentials) -> bool:
        try:
            return self._read_version(key_id, version, PENDING) == creds
        except KeychainCorrupt:
            return False

    @staticmethod
    def _relabel(labels: dict[str, int], slot: str, version: int) -> None:
        old = labels.get(slot)
        labels[slot] = version
        if slot == CURRENT and old is not None and old != version:
            labels[PREVIOUS] = old

    def delete(self, key_id: str, slot: str = CURRENT) -> bool:
        """Remove the slot's label and destroy its version; the whole path goes with the last slot. Idempotent."""
        _check_slot(slot)
        path = self._path(key_id)
        with self._lock:
            md = self._metadata(key_id)
            labels = self._labels(md)
            if slot not in labels:
                return False
            labels.pop(slot)
            if not any(s in labels for s in SLOTS):
                self.client.call(self.client.kv.delete_metadata_and_all_versions, path,
                                 mount_point=self.client.cfg.mount, path=path)
                return True
            self._set_labels(key_id, md, labels)
            return True

    def move(self, key_id: str, src: str, dst: str) -> None:
        _check_slot(src)
        _check_slot(dst)
        with self._lock:
            md = self._metadata(key_id)
            labels = self._labels(md)
            if src not in labels:
                raise KeyError(f"key {key_id} has nothing in slot {src}")
            version = labels.pop(src)
            self._relabel(labels, dst, version)
            self._set_labels(key_id, md, labels)

    def key_ids(self) -> set[str]:
        """Every key id with a secret path (tests and the importer's check)."""
        import hvac.exceptions as hx

        try:
            resp = self.client.call(self.client.kv.list_secrets, f"{KEYS}/", mount_point=self.client.cfg.mount,
                                    path=f"{KEYS}/")
        except hx.InvalidPath:
            return set()
        return {k for k in (resp.get("data") or {}).get("keys") or [] if not k.endswith("/")}

    def labels(self, key_id: str) -> dict[str, int]:
        """The stage labels of a key's path (``current``/``pending``/``previous`` -> KV version)."""
        return self._labels(self._metadata(key_id))


def _check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown keychain slot {slot!r}")
