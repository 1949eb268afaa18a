"""``.env``, ``.env.*``, ``*.env`` and ``.envrc``: variables named ``<EXCHANGE>[_QUALIFIER]_<ROLE>``.

``BINANCE_API_KEY`` + ``BINANCE_API_SECRET`` (or ``_SECRET_KEY``, ``_PRIVATE_KEY``…) + ``OKX_API_PASSPHRASE`` are
grouped by their stem (``BINANCE``, ``BINANCE_PERPETUAL_FUTURES`` in Jesse's naming, ``BYBIT_TESTNET``) into one
found key each. The stem must start with a ccxt exchange id or alias, and a group needs a secret: a lone
``GEMINI_API_KEY`` is far more often an AI service's key than the Gemini exchange's, and a key id without its
secret opens nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.detectors.base import ROTATE_NOTE
from keyhygiene.core.discovery.model import KIND_SERVICE_TOKEN, Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

ROLE_KEY, ROLE_SECRET, ROLE_PASSPHRASE, ROLE_UID = "key", "secret", "passphrase", "uid"

# Longest suffix first: "_API_SECRET_KEY" must win over "_KEY".
ROLE_SUFFIXES: tuple[tuple[str, str], ...] = tuple(sorted(
    (
        ("_API_SECRET_KEY", ROLE_SECRET), ("_SECRET_KEY", ROLE_SECRET), ("_API_SECRET", ROLE_SECRET),
        ("_SECRET", ROLE_SECRET), ("_APISECRET", ROLE_SECRET), ("_PRIVATE_KEY", ROLE_SECRET),
        ("_API_PRIVATE_KEY", ROLE_SECRET), ("_SECRET_ACCESS_KEY", ROLE_SECRET),
        ("_API_KEY", ROLE_KEY), ("_APIKEY", ROLE_KEY), ("_KEY", ROLE_KEY), ("_PUBLIC_KEY", ROLE_KEY),
        ("_ACCESS_KEY", ROLE_KEY), ("_API_KEY_ID", ROLE_KEY), ("_KEY_ID", ROLE_KEY), ("_API_KEY_NAME", ROLE_KEY),
        ("_KEY_NAME", ROLE_KEY),
        ("_API_PASSPHRASE", ROLE_PASSPHRASE), ("_PASSPHRASE", ROLE_PASSPHRASE), ("_API_PASSWORD", ROLE_PASSPHRASE),
        ("_PASSWORD", ROLE_PASSPHRASE), ("_API_PASS", ROLE_PASSPHRASE),
        ("_UID", ROLE_UID), ("_API_UID", ROLE_UID), ("_MEMO", ROLE_UID),
    ),
    key=lambda p: -len(p[0]),
))

# Cryptohopper's SDKs and CLI read the account's OAuth bearer token from this variable.
CRYPTOHOPPER_TOKEN_VAR = "CRYPTOHOPPER_TOKEN"


@dataclass
class _Group:
    stem: str
    exchange: str
    values: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (variable, value)


def split_role(var: str) -> tuple[str, str] | None:
    """``BINANCE_API_SECRET`` → (``BINANCE``, "secret")."""
    up = var.upper()
    for suffix, role in ROLE_SUFFIXES:
        if up.endswith(suffix) and len(up) > len(suffix):
            return up[: -len(suffix)], role
    return None


def parse_env(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs as python-dotenv reads them; unparsable lines are skipped, never fatal."""
    from dotenv.parser import parse_stream

    out: list[tuple[str, str]] = []
    try:
        for b in parse_stream(io.StringIO(text)):
            if b.key and b.value is not None and not b.error:
                out.append((b.key, b.value))
    except Exception:  # the parser is regex-based; keep whatever it produced before giving up
        pass
    return out


class DotenvDetector:
    format = "dotenv"
    tool = ".env"

    def wants(self, name: str, parent: str) -> bool:
        return name.startswith(".env") or name.endswith(".env")

    def detect(self, doc: Document) -> list[FoundKey]:
        groups: dict[str, _Group] = {}
        out: list[FoundKey] = []
        for var, value in parse_env(doc.text):
            if var.upper() == CRYPTOHOPPER_TOKEN_VAR and looks_like_credential(value, min_len=16):
                out.append(_cryptohopper(doc, var, value))
                continue
            split = split_role(var)
            if split is None:
                continue
            stem, role = split
            hit = exchange_names.resolve_prefix(stem.lower().split("_"))
            if hit is None:
                continue
            ok = is_filled(value) if role in (ROLE_PASSPHRASE, ROLE_UID) else looks_like_credential(value)
            if not ok:
                continue
            g = groups.setdefault(stem, _Group(stem=stem, exchange=hit[0]))
            g.values.setdefault(role, (var, value))
        for g in groups.values():
            if ROLE_SECRET not in g.values:
                continue
            out.append(self._found(doc, g))
        return out

    def _found(self, doc: Document, g: _Group) -> FoundKey:
        names = [g.values[r][0] for r in (ROLE_KEY, ROLE_SECRET, ROLE_PASSPHRASE, ROLE_UID) if r in g.values]
        value = {r: v for r, (_n, v) in g.values.items()}
        creds = Credentials(
            api_key=value.get(ROLE_KEY, "").strip(),
            secret=value[ROLE_SECRET].strip(),
            passphrase=value.get(ROLE_PASSPHRASE) or None,
            extra={"uid": value[ROLE_UID]} if ROLE_UID in value else {},
        )
        return FoundKey(
            path=str(doc.path),
            format=self.format,
            tool=self.tool,
            exchange=g.exchange,
            exchange_known=True,
            fields=names,
            location=f"{g.stem}_*",
            advice=(
                "Import the key, then clean this file (keyhygiene scan --clean FILE): the values are emptied and a "
                f"comment says where they went; give the program {', '.join(names)} from its environment or the "
                f"keychain instead. {ROTATE_NOTE}"
            ),
            cleanable=True,
            credentials=creds,
            secret_paths=[(n,) for n in names],
        )


def _cryptohopper(doc: Document, var: str, value: str) -> FoundKey:
    return FoundKey(
        path=str(doc.path),
        format="dotenv",
        tool="Cryptohopper",
        kind=KIND_SERVICE_TOKEN,
        exchange="cryptohopper",
        exchange_known=False,
        fields=[var],
        location=var,
        advice=(
            "A Cryptohopper API token acts as your Cryptohopper account, which holds your exchange keys and trades "
            "with them. Keep it out of files, and revoke it in Cryptohopper if this file was ever shared."
        ),
        cleanable=False,  # the vault holds exchange keys only: clearing it would leave the token nowhere
        credentials=Credentials(api_key=value.strip(), secret=""),
        secret_paths=[(var,)],
    )
