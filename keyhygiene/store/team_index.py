"""``<mount>/data/index``: the latest KV version of every key's metadata and rotation document, so a refresh reads
only what changed. Updated with check-and-set right after each document write (team_vault.py says what a writer
killed in between means). Versions only: no names, labels or secrets.

Each kind is one string ``"<key id>=<version>,..."``, not a JSON object: OpenBao refuses a request body with more
JSON strings than its complexity limit (about a thousand), which a thousand keys' object would exceed."""

from __future__ import annotations

import logging
import threading
from typing import Any

from keyhygiene.store.team_client import CheckAndSetConflict, TeamClient

log = logging.getLogger(__name__)
INDEX = "index"
KINDS = ("meta", "rotations")
ATTEMPTS = 8  # concurrent writers retry on top of each other; each attempt is one read and one write


class TeamIndex:
    def __init__(self, client: TeamClient) -> None:
        self.client = client
        # One writer at a time in this process: concurrent threads would only collide with each other.
        self._lock = threading.Lock()
        self._deferred: dict[tuple[str, str], int | None] = {}

    def _read(self) -> tuple[int, dict[str, Any] | None]:
        import hvac.exceptions as hx

        try:
            resp = self.client.call(self.client.kv.read_secret_version, INDEX, mount_point=self.client.cfg.mount,
                                    raise_on_deleted_version=True, path=INDEX)
        except hx.InvalidPath:
            return 0, None
        data = resp.get("data") or {}
        return int((data.get("metadata") or {}).get("version") or 0), dict(data.get("data") or {})

    def read(self) -> dict[str, dict[str, int]] | None:
        """Per kind, key id -> version; None when there is no index yet (then a refresh reads every document)."""
        doc = self._read()[1]
        return None if doc is None else {kind: _decode(doc.get(kind)) for kind in KINDS}

    def set(self, kind: str, key_id: str, version: int | None) -> None:
        self.set_many({(kind, key_id): version})

    def defer(self, kind: str, key_id: str, version: int | None) -> None:
        """Note an update to send with the next ``flush`` (many inspections in one audit: one index write)."""
        with self._lock:
            self._deferred[(kind, key_id)] = version

    def flush(self) -> None:
        with self._lock:
            todo, self._deferred = self._deferred, {}
        if todo:
            self.set_many(todo)

    def set_many(self, updates: dict[tuple[str, str], int | None]) -> None:
        with self._lock:
            for _attempt in range(ATTEMPTS):
                current, doc = self._read()
                doc = doc or {}
                decoded = {kind: _decode(doc.get(kind)) for kind in KINDS}
                changed = False
                for (kind, key_id), version in updates.items():
                    entries = decoded.setdefault(kind, {})
                    if entries.get(key_id) == version:
                        continue
                    changed = True
                    if version is None:
                        entries.pop(key_id, None)
                    else:
                        entries[key_id] = version
                if not changed:
                    return
                for kind, entries in decoded.items():
                    doc[kind] = _encode(entries)
                try:
                    self.client.call(self.client.kv.create_or_update_secret, INDEX, secret=doc, cas=current,
                                     mount_point=self.client.cfg.mount, path=INDEX)
                    return
                except CheckAndSetConflict:
                    continue  # a teammate's write landed first: apply ours on top of it
            raise CheckAndSetConflict(INDEX)

def _decode(text: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    if not isinstance(text, str):
        return out
    for item in text.split(","):
        kid, sep, version = item.partition("=")
        if sep and kid and version.isdigit():
            out[kid] = int(version)
    return out


def _encode(entries: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(entries.items()))
