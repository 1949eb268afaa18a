"""Gunbot's ``config.js``: ``exchanges.<name>`` with ``key``/``secret``, ``masterkey``/``mastersecret`` and
``passphrase``. [Format from Gunbot's documentation (gunbot.app, wiki.gunthy.org), not its source, which is
closed.] The file is JSON in practice, but people edit it by hand, so it is read as a JavaScript object literal:
comments, trailing commas, single quotes and unquoted keys are all accepted.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.detectors.base import ROTATE_NOTE, dict_at
from keyhygiene.core.discovery.model import Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

# (key field, secret field): Gunbot's licence-bound "master" key and the key it trades with; often the same key.
PAIRS = (("masterkey", "mastersecret"), ("key", "secret"))
PASSPHRASE_FIELD = "passphrase"
CLIENT_ID_FIELD = "clientId"


class GunbotDetector:
    format = "gunbot"
    tool = "Gunbot"

    def wants(self, name: str, parent: str) -> bool:
        return name == "config.js"

    def detect(self, doc: Document) -> list[FoundKey]:
        exchanges = dict_at(doc.data, "exchanges")
        if exchanges is None:
            return []
        out: list[FoundKey] = []
        for name, cfg in exchanges.items():
            if isinstance(cfg, dict):
                out.extend(self._exchange(doc, str(name), cfg))
        return out

    def _exchange(self, doc: Document, name: str, cfg: dict[str, Any]) -> list[FoundKey]:
        exchange = exchange_names.resolve_loose(name)
        passphrase = cfg.get(PASSPHRASE_FIELD)
        client_id = cfg.get(CLIENT_ID_FIELD)
        # One finding per distinct key: the master key and the trading key are merged when they are the same.
        groups: dict[str, tuple[list[str], str]] = {}
        for kf, sf in PAIRS:
            key, secret = cfg.get(kf), cfg.get(sf)
            if not isinstance(secret, str) or not looks_like_credential(secret):
                continue
            has_key = looks_like_credential(key)
            # Without a key id the secret is its own group, keyed by the field name.
            ident = key.strip() if has_key and isinstance(key, str) else "\0" + sf
            fields, _ = groups.setdefault(ident, ([], secret.strip()))
            fields.extend([kf, sf] if has_key else [sf])
        out: list[FoundKey] = []
        for ident, (fields, secret) in groups.items():
            if is_filled(passphrase):
                fields.append(PASSPHRASE_FIELD)
            if is_filled(client_id):
                fields.append(CLIENT_ID_FIELD)
            location = f"exchanges.{name}"
            out.append(FoundKey(
                path=str(doc.path),
                format=self.format,
                tool=self.tool,
                exchange=exchange or name.lower(),
                exchange_known=exchange is not None,
                fields=[f"{location}.{f}" for f in fields],
                location=location,
                advice=(
                    "Gunbot only reads keys from this file: keep the Gunbot folder private (not synced, not in a "
                    "repository), make the key trade-only and restricted to the bot's IP address. "
                    f"{ROTATE_NOTE}"
                ),
                cleanable=False,
                credentials=Credentials(
                    api_key="" if ident.startswith("\0") else ident,
                    secret=secret,
                    passphrase=str(passphrase) if is_filled(passphrase) else None,
                    extra={"uid": str(client_id)} if is_filled(client_id) else {},
                ),
                secret_paths=[("exchanges", name, f) for f in fields],
            ))
        return out
