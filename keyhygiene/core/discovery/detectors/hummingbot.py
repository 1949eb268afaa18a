"""Hummingbot: ``conf/connectors/<connector>.yml`` (current) and ``conf/encrypted_<name>.json`` (before 1.0).

Hummingbot encrypts every secure value with the user's Hummingbot password as an Ethereum v3 keyfile
(``ETHKeyFileSecretManger`` in hummingbot/client/config/config_crypt.py); in the YAML files the keyfile JSON is
hex-encoded. Such values are reported as protected and never decrypted. A value that is *not* a keyfile (a hand
edit) is reported as plaintext.

The YAML is flat ``name: value`` lines, so it is read line by line instead of pulling in a YAML library.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.model import Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

PROTECTION = "hummingbot-password"
_SECURE_WORDS = ("key", "secret", "passphrase", "password", "private")
_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$")
_ROLE_SUFFIXES = (
    ("_api_secret", "secret"), ("_secret_key", "secret"), ("_secret", "secret"), ("_private_key", "secret"),
    ("_api_key", "key"), ("_access_key", "key"), ("_key", "key"), ("_passphrase", "passphrase"),
    ("_password", "passphrase"), ("_uid", "uid"),
)


def read_flat_yaml(text: str) -> dict[str, str]:
    """Top-level ``name: value`` pairs; nested blocks, lists and comments are ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-":
            continue
        m = _LINE.match(line)
        if not m:
            continue
        value = m.group(2)
        if value.startswith(("'", '"')) and len(value) >= 2 and value[-1] == value[0]:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[m.group(1)] = value
    return out


def is_keyfile(value: Any) -> bool:
    """An Ethereum v3 keyfile: a JSON object with a ``crypto`` section (directly or hex-encoded)."""
    if isinstance(value, dict):
        return isinstance(value.get("crypto") or value.get("Crypto"), dict)
    if not isinstance(value, str) or len(value) < 64:
        return False
    try:
        decoded = json.loads(binascii.unhexlify(value.strip()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return is_keyfile(decoded) if isinstance(decoded, dict) else False


def _role(field: str) -> str | None:
    for suffix, role in _ROLE_SUFFIXES:
        if field.endswith(suffix):
            return role
    return None


class HummingbotDetector:
    format = "hummingbot"
    tool = "Hummingbot"

    def wants(self, name: str, parent: str) -> bool:
        if parent == "connectors" and name.endswith((".yml", ".yaml")):
            return True
        return name.startswith("encrypted_") and name.endswith(".json")

    def detect(self, doc: Document) -> list[FoundKey]:
        if doc.name.endswith(".json"):
            return self._legacy(doc)
        values = read_flat_yaml(doc.text)
        connector = values.get("connector") or doc.path.stem
        secure = {
            k: v for k, v in values.items()
            if k != "connector" and any(w in k.lower() for w in _SECURE_WORDS) and is_filled(v)
        }
        if not secure:
            return []
        protected = {k for k, v in secure.items() if is_keyfile(v)}
        plain = {k: v for k, v in secure.items() if k not in protected and looks_like_credential(v, min_len=6)}
        if not protected and not plain:
            return []
        exchange = exchange_names.resolve_loose(connector)
        fields = sorted(protected | set(plain))
        creds = None
        if plain and not protected:
            by_role = {r: v for k, v in plain.items() if (r := _role(k))}
            if by_role.get("secret"):
                creds = Credentials(
                    api_key=by_role.get("key", ""), secret=by_role["secret"], passphrase=by_role.get("passphrase"),
                    extra={"uid": by_role["uid"]} if by_role.get("uid") else {},
                )
        if protected and not plain:
            advice = (
                "Encrypted with your Hummingbot password: safe at rest as long as that password is strong and "
                "not stored next to it. Nothing to clean up; import the key by hand (keyhygiene keys add) to "
                "audit it."
            )
        else:
            advice = (
                f"{', '.join(sorted(plain))} in this file {'is' if len(plain) == 1 else 'are'} not encrypted. "
                "Re-enter the key with Hummingbot's `connect` command so Hummingbot encrypts it, and rotate it."
            )
        return [FoundKey(
            path=str(doc.path),
            format=self.format,
            tool=self.tool,
            exchange=exchange or connector.lower(),
            exchange_known=exchange is not None,
            fields=fields,
            location=connector,
            advice=advice,
            protected=not plain,
            protection=PROTECTION if protected else None,
            cleanable=False,
            credentials=creds,
            secret_paths=[(f,) for f in fields],
        )]

    def _legacy(self, doc: Document) -> list[FoundKey]:
        if not is_keyfile(doc.strict_json):
            return []
        var = doc.path.stem[len("encrypted_"):]
        exchange = exchange_names.resolve_loose(var)
        return [FoundKey(
            path=str(doc.path),
            format=self.format,
            tool=self.tool,
            exchange=exchange or var.lower(),
            exchange_known=exchange is not None,
            fields=[var],
            location=var,
            advice="Encrypted with your Hummingbot password (Hummingbot before 1.0): safe at rest as long as that "
                   "password is strong. Nothing to clean up.",
            protected=True,
            protection=PROTECTION,
        )]
