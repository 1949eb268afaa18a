"""Loading the exchange stack (ccxt, aiohttp, the TLS context) in one go, before the first request.

ccxt.async_support imports every exchange it ships (~800 modules, 0.5-0.8 s of CPU). In the desktop app that
runs on the asyncio thread, and while it runs every call the GUI thread makes into Python waits for the GIL,
often behind a multi-millisecond unmarshal of a large module: a repaint then takes 100 ms or more. The app calls
``load_exchange_stack`` at the start of an audit, after the window has drawn the audit's first state and before
it asks for the next one, so the import overlaps nothing the user is looking at (tests/benchmarks, gui_stall).
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
