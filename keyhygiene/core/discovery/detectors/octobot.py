"""OctoBot ``user/config.json`` and ``user/profiles/<name>/profile.json``: ``exchanges.<name>.api-key`` etc.

OctoBot "encrypts" these values with Fernet under a key that is a constant in its public source
(``OCTOBOT_KEY`` in octobot_commons; ``encrypt``/``decrypt`` in octobot_commons/configuration). Anyone with the
file can decrypt them, so they are plaintext-equivalent and reported that way. The constant below is that
published key, used only to read the values for the masked fingerprint and the import; it protects nothing.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.detectors.base import ROTATE_NOTE
from keyhygiene.core.discovery.model import Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

# Drakkar-Software OctoBot, octobot_commons/__init__.py (earlier: octobot_commons/constants.py, config/constants.py).
OCTOBOT_PUBLISHED_KEY = b"uVEw_JJe7uiXepaU_DR4T-ThkjZlDn8Pzl8hYPIv7w0="
FERNET_PREFIX = "gAAAAA"  # a Fernet token is base64 of version byte 0x80 + timestamp

FIELD_KEY = "api-key"
FIELD_SECRET = "api-secret"
FIELD_PASSWORD = "api-password"
FIELD_UID = "api-uid"
_ALL_FIELDS = (FIELD_KEY, FIELD_SECRET, FIELD_PASSWORD, FIELD_UID)

PROTECTION_PUBLISHED_KEY = "octobot-published-key"
PROTECTION_UNKNOWN_KEY = "octobot-unknown-key"


class Decoded:
    """A field's value after undoing OctoBot's encryption, and how it was stored."""

    __slots__ = ("value", "encrypted", "unreadable")

    def __init__(self, value: str | None, encrypted: bool, unreadable: bool) -> None:
        self.value = value
        self.encrypted = encrypted
        self.unreadable = unreadable


def decode_value(raw: Any) -> Decoded:
    if not isinstance(raw, str):
        return Decoded(None, False, False)
    s = raw.strip()
    if not s.startswith(FERNET_PREFIX):
        return Decoded(s, False, False)
    from cryptography.fernet import Fernet, InvalidToken

    try:
        return Decoded(Fernet(OCTOBOT_PUBLISHED_KEY).decrypt(s.encode()).decode("utf-8"), True, False)
    except (InvalidToken, ValueError, UnicodeDecodeError):
        # Encrypted with another key (a fork, a future version): still a key that sits next to its decryptor.
        return Decoded(None, True, True)


class OctoBotDetector:
    format = "octobot"
    tool = "OctoBot"

    def wants(self, name: str, parent: str) -> bool:
        return name in ("config.json", "profile.json")

    def detect(self, doc: Document) -> list[FoundKey]:
        data = doc.data
        if not isinstance(data, dict):
            return []
        out: list[FoundKey] = []
        for prefix in (("exchanges",), ("config", "exchanges")):
            exchanges: Any = data
            for p in prefix:
                exchanges = exchanges.get(p) if isinstance(exchanges, dict) else None
            if not isinstance(exchanges, dict):
                continue
            for name, cfg in exchanges.items():
                if isinstance(cfg, dict) and any(f in cfg for f in _ALL_FIELDS):
                    found = self._one(doc, prefix, str(name), cfg)
                    if found is not None:
                        out.append(found)
        return out

    def _one(self, doc: Document, prefix: tuple[str, ...], name: str, cfg: dict[str, Any]) -> FoundKey | None:
        dec = {f: decode_value(cfg.get(f)) for f in _ALL_FIELDS}
        key, secret = dec[FIELD_KEY], dec[FIELD_SECRET]
        unreadable = key.unreadable or secret.unreadable
        if not (unreadable or looks_like_credential(secret.value)):
            return None
        present = [
            f for f in _ALL_FIELDS
            if dec[f].unreadable
            or (looks_like_credential(dec[f].value) if f in (FIELD_KEY, FIELD_SECRET) else is_filled(dec[f].value))
        ]
        exchange = exchange_names.resolve_loose(name)
        encrypted = any(dec[f].encrypted for f in present)
        creds = None
        if not unreadable:
            pw = dec[FIELD_PASSWORD].value
            uid = dec[FIELD_UID].value
            creds = Credentials(
                api_key=(key.value or "").strip() if looks_like_credential(key.value) else "",
                secret=(secret.value or "").strip(),
                passphrase=pw if is_filled(pw) else None,
                extra={"uid": uid} if uid and is_filled(uid) else {},
            )
        if unreadable:
            how = (
                "The values are encrypted with a key KeyHygiene does not know, in a file that OctoBot decrypts "
                "without any password: treat them as readable by anyone who gets this file. Add the key to "
                "KeyHygiene by hand (keyhygiene keys add)."
            )
            protection: str | None = PROTECTION_UNKNOWN_KEY
        elif encrypted:
            how = (
                "OctoBot's encryption uses a key published in its source code, so this is as good as plaintext."
            )
            protection = PROTECTION_PUBLISHED_KEY
        else:
            how = "The values are stored in plaintext."
            protection = None
        location = ".".join((*prefix, name))
        return FoundKey(
            path=str(doc.path),
            format=self.format,
            tool=self.tool,
            exchange=exchange or name.lower(),
            exchange_known=exchange is not None,
            fields=[f"{location}.{f}" for f in present],
            location=location,
            advice=(
                f"{how} OctoBot cannot read the key from anywhere else: keep the user folder private, make the key "
                f"trade-only and IP-restricted, and remove it from OctoBot when you stop the bot. {ROTATE_NOTE}"
            ),
            protected=False,
            protection=protection,
            cleanable=False,
            credentials=creds,
            secret_paths=[(*prefix, name, f) for f in present],
        )
