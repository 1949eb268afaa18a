"""The inspect use case: ask an exchange what one key can do. Needs no vault (``keyhygiene inspect`` stores
nothing); runs on the runtime's loop, through the runtime's exchange executor (in this process, or in the exchange
process: ``service/exchange_executor.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, KeyProfile
from keyhygiene.service.runtime import Runtime

if TYPE_CHECKING:
    from keyhygiene.service.exchange_executor import ExchangeExecutor


async def inspect_async(exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
                        declared_permissions: list[str] | None = None,
                        executor: ExchangeExecutor | None = None) -> KeyProfile:
    """``executor`` defaults to this process (``InProcessExchanges``)."""
    redact.remember(creds.secret_values())
    if executor is None:
        from keyhygiene.service.exchange_executor import InProcessExchanges

        executor = InProcessExchanges()
    return await executor.inspect(exchange, creds, endpoints=endpoints or None,
                                  declared_permissions=declared_permissions)


def inspect(exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
            runtime: Runtime | None = None) -> KeyProfile:
    """``inspect_async`` on ``runtime``'s loop (a runtime of its own, closed after, when none is given)."""
    own = runtime is None
    rt = runtime if runtime is not None else Runtime()
    try:
        return rt.run(inspect_async(exchange, creds, endpoints=endpoints, executor=rt.exchanges))
    finally:
        if own:
            rt.close()
