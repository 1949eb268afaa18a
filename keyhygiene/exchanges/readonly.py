"""Read-only by construction: every HTTP request a ccxt client makes passes this guard before any I/O.

The audit path installs a guard that allows only the adapter's key-info endpoint and its listed read endpoints.
Anything else — create_order, withdraw, a write that an implicit method could reach — raises ReadOnlyViolation
inside ``fetch``, before a socket is touched. The one write the product needs (revoking an old key during
rotation) installs its own guard with exactly that endpoint, in revoke.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from keyhygiene.exchanges.adapter import Endpoint


class ReadOnlyViolation(RuntimeError):
    """A request outside the allowlist was attempted. This is a bug, never an exchange condition."""


# For exchanges without an adapter: reads by HTTP semantics, plus POSTs whose path names a balance/account read.
_GENERIC_POST_READ = re.compile(r"(balance|accounts?|wallets?|info|permissions?)(/|$|\?)", re.I)
_GENERIC_WRITE_WORDS = re.compile(r"(order|withdraw|transfer|cancel|create|delete|new|submit|trade)", re.I)


class Allowlist:
    def __init__(self, endpoints: Iterable[Endpoint] = (), generic: bool = False) -> None:
        self.endpoints = tuple(endpoints)
        self.generic = generic

    def check(self, method: str, url: str) -> None:
        m = method.upper()
        path = urlsplit(url).path or "/"
        for ep in self.endpoints:
            if ep.http == m and (path == ep.path or path.endswith(ep.path)):
                return
        if self.generic:
            if m == "GET" and not _GENERIC_WRITE_WORDS.search(path.rsplit("/", 1)[-1]):
                return
            if m == "POST" and _GENERIC_POST_READ.search(path) and not _GENERIC_WRITE_WORDS.search(path):
                return
        raise ReadOnlyViolation(f"blocked {m} {path}: not on the read-only allowlist")


def install(client: Any, allowlist: Allowlist) -> None:
    """Wrap the client's ``fetch`` (ccxt's single network entry point) with the allowlist check."""
    original: Callable[..., Any] = client.fetch

    async def guarded_fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        allowlist.check(method, url)
        return await original(url, method, headers, body)

    client.fetch = guarded_fetch
    client._kh_allowlist = allowlist
