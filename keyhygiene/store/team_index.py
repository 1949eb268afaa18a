"""``<mount>/data/index``: the latest KV version of every key's metadata and rotation document, so a refresh reads
only what changed. Updated with check-and-set right after each document write (team_vault.py says what a writer
killed in between means). Versions only: no names, labels or secrets.

Each kind is one string ``"<key id>=<version>,..."``, not a JSON object: OpenBao refuses a request body with more
JSON strings than its complexity limit (about a thousand), which a thousand keys' object would exceed."""

from __future__ import annotations

import logging
from typing import Any

from keyhygiene.store.team_client import CheckAndSetConflict, TeamClient

log = logging.getLogger(__name__)
INDEX = "index"
KINDS = ("meta", "rotations")
ATTEMPTS = 8  # concurrent writers retry on top of each other; each attempt is one read and one write


class TeamIndex:
    def __init__(self, client: TeamClient) -> None:
        self.client = client

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
        for _attempt in range(ATTEMPTS):
            current, doc = self._read()
            doc = doc or {}
            entries = _decode(doc.get(kind))
            if entries.get(key_id) == version:
                return
            if version is None:
                entries.pop(key_id, None)
            else:
                entries[key_id] = version
            doc[kind] = _encode(entries)
            try:
                self.client.call(self.client.kv.create_or_update_secret, INDEX, secret=doc, cas=current,
                                 mount_point=self.client.cfg.mount, path=INDEX)
                return
            except CheckAndSetConflict:
                continue
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
