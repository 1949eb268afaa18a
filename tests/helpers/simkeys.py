"""Valid random credentials for the simulator, per exchange."""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import Credentials
from keyhygiene.sim.credentials import new_credentials
from keyhygiene.sim.model import SimKey
from tests.helpers.secrets_watch import register_secret


def make_key(exchange: str, **kw: Any) -> SimKey:
    """A SimKey with fresh random credentials (registered with the leak check)."""
    api_key, secret, passphrase, extra = new_credentials(exchange)
    api_key = kw.pop("api_key", api_key)
    secret = kw.pop("secret", secret)
    passphrase = kw.pop("passphrase", passphrase)
    extra = kw.pop("extra", extra)
    register_secret(api_key, secret, *([passphrase] if passphrase else []), *extra.values())
    return SimKey(exchange=exchange, api_key=api_key, secret=secret, passphrase=passphrase, extra=extra, **kw)


def creds_of(key: SimKey) -> Credentials:
    return Credentials(api_key=key.api_key, secret=key.secret, passphrase=key.passphrase, extra=dict(key.extra))
