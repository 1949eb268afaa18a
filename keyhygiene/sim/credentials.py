"""Fresh, valid-looking credentials for a simulated exchange (tests, demo, benchmarks).

Most exchanges use random HMAC secrets; an exchange module may define ``make_credentials() -> (api_key, secret,
extra)`` when its keys look different (Coinbase CDP: a key name and a PEM private key).
"""

from __future__ import annotations

import importlib
import secrets

PASSPHRASE_EXCHANGES = frozenset({"kucoin", "okx", "bitget"})


def new_credentials(exchange: str) -> tuple[str, str, str | None, dict[str, str]]:
    api_key, secret, extra = secrets.token_hex(16), secrets.token_hex(24), {}
    try:
        module = importlib.import_module(f"keyhygiene.sim.exchanges.{exchange}")
    except ModuleNotFoundError:
        module = None
    maker = getattr(module, "make_credentials", None)
    if maker is not None:
        api_key, secret, extra = maker()
    passphrase = ("Pp" + secrets.token_hex(6)) if exchange in PASSPHRASE_EXCHANGES else None
    return api_key, secret, passphrase, dict(extra)
