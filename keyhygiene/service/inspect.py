"""The inspect use case: ask an exchange what one key can do. Needs no vault (``keyhygiene inspect`` stores
nothing); runs on the runtime's loop, which owns every ccxt client."""

from __future__ import annotations

from collections.abc import Mapping

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, KeyProfile
from keyhygiene.service.runtime import Runtime


async def inspect_async(exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
                        declared_permissions: list[str] | None = None) -> KeyProfile:
    from keyhygiene.exchanges.inspect import inspect_key

    redact.remember(creds.secret_values())
    return await inspect_key(exchange, creds, endpoints=endpoints or None, declared_permissions=declared_permissions)


def inspect(exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
            runtime: Runtime | None = None) -> KeyProfile:
    """``inspect_async`` on ``runtime``'s loop (a runtime of its own, closed after, when none is given)."""
    own = runtime is None
    rt = runtime if runtime is not None else Runtime()
    try:
        return rt.run(inspect_async(exchange, creds, endpoints=endpoints))
    finally:
        if own:
            rt.close()
