"""What ccxt's HTTP session may do for us: one request, to the exchange's own host, with a bounded answer.

ccxt sends every request through ``client.session.<method>(url, …)`` (aiohttp). ``GuardedSession`` stands in for
that session and, on each request actually sent (issue 18):
- checks the host is one the client was configured with (the exchange's API hosts, or the ``--endpoint`` override)
  and the method and path against the read-only allowlist, again, at the socket's door;
- never follows a redirect: aiohttp would re-send custom headers (``X-MBX-APIKEY``) to whatever host and path the
  answer names, past the allowlist; a 3xx fails the key with the redirect's target named instead;
- reads at most ``MAX_RESPONSE_BYTES`` of the body, counted both as received and after decompression (it
  decompresses itself, member by member, with ``max_length``): an endless body, a gzip bomb or a 100 MB JSON
  ends as a clear error at 1 MiB instead of gigabytes of memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from keyhygiene.exchanges.readonly import Allowlist, ReadOnlyViolation

MAX_RESPONSE_BYTES = 1024 * 1024  # a key-info answer is a few KB; 1 MiB leaves room for any real one
_CHUNK = 64 * 1024
_HTTP_METHODS = ("get", "post", "put", "delete", "patch", "head", "options")


class ResponseTooLarge(Exception):
    """Not an aiohttp error on purpose: ccxt turns those into its own; this one must reach our classifier."""

    def __init__(self, limit: int, decompressed: bool) -> None:
        self.limit = limit
        how = "after decompression " if decompressed else ""
        super().__init__(f"the answer was larger than {limit // 1024} KiB {how}(KeyHygiene stopped reading it)")


class RedirectRefused(Exception):
    def __init__(self, status: int, location: str) -> None:
        self.status, self.location = status, location
        super().__init__(f"the exchange answered with a redirect to {location} (HTTP {status})")


class HostNotAllowed(ReadOnlyViolation):
    pass


class UnreadableAnswer(Exception):
    pass


def safe_location(location: str, base: str) -> str:
    """Where a redirect points, without its query (it may echo request parameters)."""
    from urllib.parse import urljoin

    parts = urlsplit(urljoin(base, location))
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path or "?"


def hosts_of(urls: Any, hostname: str | None = None) -> set[str]:
    """Every ``host[:port]`` in a ccxt ``urls['api']`` tree (``{hostname}`` filled in as ccxt does)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if hostname and "{hostname}" in node:
                node = node.replace("{hostname}", hostname)
            if node.startswith(("http://", "https://")):
                netloc = urlsplit(node).netloc.lower()
                if netloc and "{" not in netloc:
                    found.add(netloc)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v)

    walk(urls)
    return found


class GuardedSession:
    def __init__(self, inner: Any, *, hosts: Iterable[str], allowlist: Allowlist | None,
                 limit: int = MAX_RESPONSE_BYTES, ssl_context: Any = None) -> None:
        self._inner = inner  # None: made on first use (in the running loop) and owned, so closed by close()
        self._owned = inner is None
        self._ssl = ssl_context
        self.hosts = {h.lower() for h in hosts}
        self.allowlist = allowlist
        self.limit = limit

    @property
    def headers(self) -> dict[str, str]:
        return {}  # ccxt merges a session's default headers into each request; ours has none

    def __getattr__(self, name: str) -> Any:
        if name in _HTTP_METHODS:
            return lambda url, **kw: _GuardedRequest(self, name.upper(), url, kw)
        raise AttributeError(name)

    def _session(self) -> Any:
        if self._inner is None:
            import aiohttp

            connector = aiohttp.TCPConnector(ssl=self._ssl, enable_cleanup_closed=True)
            self._inner = aiohttp.ClientSession(connector=connector)
        return self._inner

    @property
    def closed(self) -> bool:
        return self._inner is None or bool(self._inner.closed)

    async def close(self) -> None:
        if self._owned and self._inner is not None:
            await self._inner.close()
            self._inner = None

    def check(self, method: str, url: str) -> None:
        netloc = urlsplit(url).netloc.lower()
        if netloc not in self.hosts:
            raise HostNotAllowed(f"blocked {method} to {netloc or url!r}: not this exchange's host")
        if self.allowlist is not None:
            self.allowlist.check(method, url)


class _GuardedRequest:
    def __init__(self, guard: GuardedSession, method: str, url: Any, kw: dict[str, Any]) -> None:
        self.guard, self.method, self.url, self.kw = guard, method, url, kw
        self._resp: Any = None

    async def __aenter__(self) -> _CappedResponse:
        url = str(self.url)
        self.guard.check(self.method, url)
        kw = dict(self.kw)
        headers = dict(kw.pop("headers", None) or {})
        # Only encodings we can decompress under a cap; never brotli (its decoder has no output bound here).
        headers = {k: v for k, v in headers.items() if k.lower() != "accept-encoding"}
        headers["Accept-Encoding"] = "gzip, deflate"
        kw.pop("allow_redirects", None)
        resp = await self.guard._session().request(self.method, self.url, headers=headers, allow_redirects=False,
                                                   auto_decompress=False, **kw)
        self._resp = resp
        try:
            if 300 <= resp.status < 400:
                location = resp.headers.get("Location", "")
                raise RedirectRefused(resp.status, safe_location(location, url) if location else "(no location)")
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > self.guard.limit:
                raise ResponseTooLarge(self.guard.limit, decompressed=False)
        except BaseException:
            resp.close()  # __aexit__ does not run when __aenter__ raises
            raise
        return _CappedResponse(resp, self.guard.limit)

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            # close(), not release(): a body we stopped reading must not be drained into a pooled connection.
            self._resp.close()


class _CappedResponse:
    def __init__(self, resp: Any, limit: int) -> None:
        self._resp = resp
        self.limit = limit
        self.status = resp.status
        self.reason = resp.reason
        self.headers = resp.headers
        self.content = b""

    async def read(self) -> bytes:
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise UnreadableAnswer(f"the answer used an encoding KeyHygiene does not read ({encoding[:40]})")
        raw_total = 0
        out = bytearray()
        decomp = _Decompressor(encoding, self.limit)
        async for chunk in self._resp.content.iter_chunked(_CHUNK):
            raw_total += len(chunk)
            if raw_total > self.limit:
                raise ResponseTooLarge(self.limit, decompressed=False)
            try:
                out += decomp.feed(chunk)
            except zlib.error:
                raise UnreadableAnswer(f"the answer's {encoding} data is damaged") from None
            if len(out) > self.limit:
                raise ResponseTooLarge(self.limit, decompressed=True)
        out += decomp.flush()
        if len(out) > self.limit:
            raise ResponseTooLarge(self.limit, decompressed=True)
        self.content = bytes(out)
        return self.content

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        data = await self.read()
        charset = encoding or getattr(self._resp, "charset", None) or "utf-8"
        try:
            return data.decode(charset, errors=errors)
        except LookupError:
            return data.decode("utf-8", errors=errors)

    async def json(self, **kw: Any) -> Any:
        import json

        return json.loads(await self.text(errors="replace"))


class _Decompressor:
    """gzip (any number of members) or deflate (zlib or raw), never producing more than ``limit`` + 1 bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self._d: Any = None if encoding == "identity" else self._new()

    def _new(self) -> Any:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib header; raw deflate is handled in feed()

    def feed(self, data: bytes) -> bytes:
        if self._d is None:
            self.produced += len(data)
            return data
        out = bytearray()
        while data:
            room = self.limit + 1 - self.produced - len(out)
            if room <= 0:
                break
            try:
                piece = self._d.decompress(data, room)
            except zlib.error:
                if self.encoding == "deflate" and self.produced == 0 and not out:
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)  # servers that send raw deflate
                    continue
                raise
            out += piece
            if self._d.eof:  # the next gzip member, if any, starts in unused_data
                data = self._d.unused_data
                self._d = self._new()
            else:
                data = self._d.unconsumed_tail
                if not piece and not data:
                    break
        self.produced += len(out)
        return bytes(out)

    def flush(self) -> bytes:
        if self._d is None:
            return b""
        return bytes(self._d.flush(max(1, self.limit + 1 - self.produced)))
