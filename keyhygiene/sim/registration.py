"""What a user does on an exchange's API page, done to the simulator: create an HMAC key, register a public key
(the exchange answers with a new API key), delete a key.

Which public keys each simulated exchange accepts is the exchange's rule, written here on its own (not imported
from the app's table in core/keypair.py), so a test of the app against the simulator checks one against the other.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ed25519

from keyhygiene.sim.credentials import new_credentials
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.signatures import load_public_key

if TYPE_CHECKING:
    from keyhygiene.sim.server import Simulator

# exchange: {key type: accepted RSA sizes (None for Ed25519)}
# Binance: "Ed25519 (recommended), HMAC, RSA ... We support 2048 and 4096 bit RSA keys" (faqs/api_key_types.md).
# Bybit: self-generated keys are RSA; its generator offers 2048 (default) or 4096 bits (help center).
PUBLIC_KEY_RULES: dict[str, dict[str, tuple[int, ...] | None]] = {
    "binance": {"ed25519": None, "rsa": (2048, 4096)},
    "bybit": {"rsa": (2048, 4096)},
}
_API_KEY_LENGTH = {"binance": 64, "bybit": 18}  # the length of the keys each exchange hands out
_ALNUM = string.ascii_letters + string.digits


class Refused(ValueError):
    """The exchange's page refuses the input; the message is for the user and never quotes the input."""


def accepts_public_keys(exchange: str) -> bool:
    return exchange in PUBLIC_KEY_RULES


def public_key_type(exchange: str, public_pem: str) -> str:
    """"ed25519" or "rsa" when ``exchange`` accepts this public key; Refused (with the reason) otherwise."""
    rules = PUBLIC_KEY_RULES.get(exchange)
    if rules is None:
        raise Refused(f"{exchange} does not accept a public key: create a system-generated (HMAC) key instead.")
    if "PRIVATE KEY" in public_pem:
        raise Refused("That is a private key. Never paste a private key anywhere: paste the PUBLIC key.")
    try:
        public = load_public_key(public_pem)
    except ValueError:
        raise Refused("Not a public key: paste the whole block from -----BEGIN PUBLIC KEY----- "
                      "to -----END PUBLIC KEY-----.") from None
    if isinstance(public, ed25519.Ed25519PublicKey):
        kind = "ed25519"
        if kind not in rules:
            raise Refused(f"{exchange} accepts RSA public keys only.")
        return kind
    sizes = rules.get("rsa")
    if sizes is None:
        raise Refused(f"{exchange} does not accept RSA public keys.")
    if public.key_size not in sizes:
        raise Refused(f"RSA keys must be {' or '.join(map(str, sizes))} bits (this one is {public.key_size}).")
    return "rsa"


def _new_api_key(exchange: str) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(_API_KEY_LENGTH.get(exchange, 32)))


def register_public_key(sim: Simulator, exchange: str, public_pem: str, *, permissions: Iterable[str] = ("read",),
                        ip_whitelist: list[str] | None = None, label: str | None = None) -> SimKey:
    """Register ``public_pem`` on ``exchange`` and return the new key (its ``api_key`` is what the page shows)."""
    public_key_type(exchange, public_pem)
    existing = {k.public_key.strip() for k in sim.keys.values()
                if k.exchange == exchange and k.public_key and not k.revoked}
    if public_pem.strip() in existing:
        raise Refused("This public key is already registered: generate a new key pair for a new API key.")
    key = SimKey(exchange=exchange, api_key=_new_api_key(exchange), secret="", public_key=public_pem.strip() + "\n",
                 permissions=set(permissions), ip_whitelist=list(ip_whitelist) if ip_whitelist else None,
                 created_at=datetime.now(UTC).replace(microsecond=0), label=label)
    return sim.add_key(key)


def create_hmac_key(sim: Simulator, exchange: str, *, permissions: Iterable[str] = ("read",),
                    ip_whitelist: list[str] | None = None, label: str | None = None) -> SimKey:
    """A system-generated key, with a passphrase where the exchange has one (KuCoin, OKX, Bitget)."""
    api_key, secret, passphrase, extra = new_credentials(exchange)
    key = SimKey(exchange=exchange, api_key=api_key, secret=secret, passphrase=passphrase, extra=extra,
                 permissions=set(permissions), ip_whitelist=list(ip_whitelist) if ip_whitelist else None,
                 created_at=datetime.now(UTC).replace(microsecond=0), label=label)
    return sim.add_key(key)


def delete_key(sim: Simulator, exchange: str, api_key: str) -> bool:
    """Delete a key the way the exchange does: from now on it is rejected as unknown. False when there is none."""
    key = sim.find_key(exchange, api_key)
    if key is None or key.revoked:
        return False
    key.revoked = True
    return True
