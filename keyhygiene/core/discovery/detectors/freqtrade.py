"""freqtrade ``config*.json``: ``exchange.name`` plus ``exchange.key`` / ``secret`` / ``password`` / ``uid``.

freqtrade reads ``FREQTRADE__EXCHANGE__KEY`` etc. from the environment over the file (docs/configuration.md), so
this is the one format whose clean-up has a reference the tool itself supports. Configs are often split:
the keys in ``config-private.json``, the exchange name in ``config.json`` next to it.
"""

from __future__ import annotations

from pathlib import Path

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.detectors.base import ROTATE_NOTE, dict_at, first_str
from keyhygiene.core.discovery.jsonish import loads_tolerant
from keyhygiene.core.discovery.model import Document, FoundKey
from keyhygiene.core.discovery.values import is_filled, looks_like_credential
from keyhygiene.core.models import Credentials

KEY_FIELDS = ("key", "apiKey", "api_key")
SECRET_FIELDS = ("secret",)
PASSWORD_FIELDS = ("password",)
UID_FIELDS = ("uid",)
# DEX credentials freqtrade passes to ccxt (Hyperliquid): a wallet private key is worse than an API secret.
WALLET_FIELDS = ("privateKey", "private_key")
WALLET_ADDRESS_FIELDS = ("walletAddress", "wallet_address")

# Environment variables freqtrade reads instead of the file (double underscore = one level of JSON).
ENV_FOR_FIELD = {
    "key": "FREQTRADE__EXCHANGE__KEY",
    "apiKey": "FREQTRADE__EXCHANGE__KEY",
    "api_key": "FREQTRADE__EXCHANGE__KEY",
    "secret": "FREQTRADE__EXCHANGE__SECRET",
    "password": "FREQTRADE__EXCHANGE__PASSWORD",
    "uid": "FREQTRADE__EXCHANGE__UID",
    "privateKey": "FREQTRADE__EXCHANGE__PRIVATEKEY",
    "private_key": "FREQTRADE__EXCHANGE__PRIVATE_KEY",
}
_SIBLING_LIMIT = 512_000


class FreqtradeDetector:
    format = "freqtrade"
    tool = "freqtrade"

    def wants(self, name: str, parent: str) -> bool:
        return name.startswith("config") and name.endswith(".json")

    def detect(self, doc: Document) -> list[FoundKey]:
        ex = dict_at(doc.data, "exchange")
        if ex is None:
            return []
        key_field, key = first_str(ex, KEY_FIELDS)
        _, secret = first_str(ex, SECRET_FIELDS)
        pw_field, password = first_str(ex, PASSWORD_FIELDS)
        uid_field, uid = first_str(ex, UID_FIELDS)
        wallet_field, wallet_key = first_str(ex, WALLET_FIELDS)
        addr_field, address = first_str(ex, WALLET_ADDRESS_FIELDS)
        has_key = looks_like_credential(key)
        has_secret = looks_like_credential(secret)
        has_wallet = looks_like_credential(wallet_key, min_len=32)
        if not (has_secret or has_wallet):
            # A key id alone opens nothing; the secret (or a wallet's private key) is what must not sit here.
            return []
        name = ex.get("name") if isinstance(ex.get("name"), str) else None
        if not name:
            name = _name_from_sibling(doc.path)
        exchange = exchange_names.resolve(name) if name else None
        fields: list[str] = []
        paths: list[tuple[str, ...]] = []
        for f, present in (
            (key_field, has_key), ("secret", has_secret), (pw_field, is_filled(password)),
            (uid_field, is_filled(uid)), (wallet_field, has_wallet), (addr_field, is_filled(address)),
        ):
            if f and present:
                fields.append(f"exchange.{f}")
                if f != addr_field:  # a wallet address is public
                    paths.append(("exchange", f))
        extra: dict[str, str] = {}
        if is_filled(uid):
            extra["uid"] = str(uid)
        if has_wallet:
            extra["privateKey"] = str(wallet_key)
        if is_filled(address):
            extra["walletAddress"] = str(address)
        creds = Credentials(
            api_key=key.strip() if has_key and key else "",
            secret=secret.strip() if has_secret and secret else "",
            passphrase=password if is_filled(password) else None,
            extra=extra,
        )
        envs = sorted({ENV_FOR_FIELD[p[1]] for p in paths if p[1] in ENV_FOR_FIELD})
        advice = (
            "freqtrade reads the key from the environment when it is not in the file: import it "
            "(keyhygiene scan --import), clean this file (keyhygiene scan --clean FILE) and set "
            f"{', '.join(envs)} where the bot runs. {ROTATE_NOTE}"
        )
        return [
            FoundKey(
                path=str(doc.path),
                format=self.format,
                tool=self.tool,
                exchange=exchange or (name or "unknown").strip().lower(),
                exchange_known=exchange is not None,
                fields=fields,
                location="exchange",
                advice=advice,
                cleanable=True,
                credentials=creds,
                secret_paths=paths,
            )
        ]


def _name_from_sibling(path: Path) -> str | None:
    """The exchange name from ``config.json`` in the same folder (freqtrade's split-config layout)."""
    sibling = path.with_name("config.json")
    if sibling == path:
        return None
    try:
        if not sibling.is_file() or sibling.stat().st_size > _SIBLING_LIMIT:
            return None
        data = loads_tolerant(sibling.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    ex = dict_at(data, "exchange")
    name = ex.get("name") if ex else None
    return name if isinstance(name, str) and name.strip() else None
