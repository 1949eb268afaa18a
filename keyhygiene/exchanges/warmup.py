"""Loading the exchange stack (ccxt, aiohttp, the TLS context) in one go, before the first request.

ccxt.async_support imports every exchange it ships (~800 modules, 0.5-0.8 s of CPU). The window never imports it
in its own process any more: its exchange work runs in the exchange process (service/exchange_executor.py), which
imports it there. ``InProcessExchanges.warm`` (the command line's executor) calls this.
"""

from __future__ import annotations

import sys

# What the first inspection would import on its own, in the order it would.
STACK: tuple[str, ...] = (
    "aiohttp",
    "ccxt.async_support",
    "keyhygiene.exchanges.inspect",
    "keyhygiene.exchanges.audit_runner",
)


def loaded() -> bool:
    return all(name in sys.modules for name in STACK)


def load_exchange_stack() -> None:
    """Import the stack and build the shared TLS context (both idempotent and cheap once done)."""
    import importlib

    for name in STACK:
        importlib.import_module(name)
    from keyhygiene.exchanges.client import shared_ssl_context

    shared_ssl_context()
