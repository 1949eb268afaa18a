"""JSON files that map exchange ids to credentials.

ccxt's examples and test runner read ``keys.json`` and ``keys.local.json``: ``{"<exchangeId>": {"apiKey", "secret",
"password", "uid"}}``. Many home-made bots keep the same shape (``{"binance": {"api_key", "api_secret"}}``) in
``config*.json``, ``credentials*.json`` or ``secrets*.json``, sometimes under an ``exchanges`` object; those are
reported as ``json-keys``. A top-level name counts only when it is a ccxt exchange id or a known alias.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.detectors.base import ROTATE_NOTE, first_str
from keyhygiene.core.discovery.model import Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

KEY_FIELDS = ("apiKey", "api_key", "apikey", "key", "api-key", "accessKey", "access_key", "publicKey", "public_key")
SECRET_FIELDS = ("secret", "api_secret", "apiSecret", "secretKey", "secret_key", "api-secret", "privateKey",
                 "private_key")
PASSWORD_FIELDS = ("password", "passphrase", "api_passphrase", "apiPassphrase", "api-password")
UID_FIELDS = ("uid",)
CCXT_FILES = ("keys.json", "keys.local.json")
GENERIC_PREFIXES = ("config", "credentials", "secrets", "keys", "api_keys", "apikeys", "exchanges")
_CONTAINERS = ("exchanges", "keys", "accounts", "credentials")


class ExchangeMapDetector:
    format = "json-keys"
    tool = "a script"

    def wants(self, name: str, parent: str) -> bool:
        return name.endswith(".json") and name.startswith(GENERIC_PREFIXES)

    def detect(self, doc: Document) -> list[FoundKey]:
        data = doc.data
        if not isinstance(data, dict):
            return []
        is_ccxt = doc.name in CCXT_FILES
        fmt, tool = ("ccxt-keys", "ccxt") if is_ccxt else (self.format, self.tool)
        out: list[FoundKey] = []
        maps: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), data)]
        for c in _CONTAINERS:
            if isinstance(data.get(c), dict):
                maps.append(((c,), data[c]))
        for prefix, mapping in maps:
            for name, cfg in mapping.items():
                if not isinstance(cfg, dict) or not isinstance(name, str):
                    continue
                exchange = exchange_names.resolve(name)
                if exchange is None:
                    continue
                found = _one(doc, fmt, tool, prefix, name, exchange, cfg)
                if found is not None:
                    out.append(found)
        return out


def _one(doc: Document, fmt: str, tool: str, prefix: tuple[str, ...], name: str, exchange: str,
         cfg: dict[str, Any]) -> FoundKey | None:
    sf, secret = first_str(cfg, SECRET_FIELDS)
    if not looks_like_credential(secret):
        return None
    kf, key = first_str(cfg, KEY_FIELDS)
    pf, password = first_str(cfg, PASSWORD_FIELDS)
    uf, uid = first_str(cfg, UID_FIELDS)
    has_key = looks_like_credential(key)
    present = [f for f, ok in ((kf, has_key), (sf, True), (pf, is_filled(password)), (uf, is_filled(uid))) if f and ok]
    location = ".".join((*prefix, name))
    creds = Credentials(
        api_key=key.strip() if has_key and key else "",
        secret=(secret or "").strip(),
        passphrase=password if is_filled(password) else None,
        extra={"uid": str(uid)} if is_filled(uid) else {},
    )
    return FoundKey(
        path=str(doc.path),
        format=fmt,
        tool=tool,
        exchange=exchange,
        exchange_known=True,
        fields=[f"{location}.{f}" for f in present],
        location=location,
        advice=(
            "Import the key, then have the script read it from the environment or the OS keychain "
            f"instead of this file, and delete the entry. {ROTATE_NOTE}"
        ),
        cleanable=False,
        credentials=creds,
        secret_paths=[(*prefix, name, f) for f in present],
    )
