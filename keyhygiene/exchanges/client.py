"""Creating ccxt.async_support clients: credentials, timeouts, endpoint override, HTTP capture, guard."""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from keyhygiene.core.models import Credentials
from keyhygiene.exchanges import readonly
from keyhygiene.exchanges.http_guard import GuardedSession, hosts_of

REQUEST_TIMEOUT_S = 15.0  # issue #3: at most 15 s a request …
KEY_DEADLINE_S = 45.0  # … and 45 s a key, retries included


@dataclass
class HttpCapture:
    """The last HTTP answer the client saw; ccxt does not keep the status code itself."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (certifi's CAs) for every client of the process. Loading the CA file costs ~20 ms of CPU
    with the GIL held, and ccxt would otherwise build one per client on its first request: in a 200-key audit
    that was seconds of start-up delay for every key and a stalled GUI thread (tests/benchmarks)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def rewrite_url(url: str, base: str, hostname_fill: str | None = None) -> str:
    """Put ``base``'s scheme and host (and path prefix) on ``url``, keeping url's own path and query."""
    if hostname_fill is not None and "{hostname}" in url:
        url = url.replace("{hostname}", hostname_fill)
    b = urlsplit(base)
    u = urlsplit(url)
    prefix = b.path.rstrip("/")
    return urlunsplit((b.scheme, b.netloc, prefix + u.path, u.query, u.fragment))


def _rewrite_tree(node: Any, base: str, hostname_fill: str | None) -> Any:
    if isinstance(node, str):
        if node.startswith(("http://", "https://")) or node.startswith("{"):
            return rewrite_url(node, base, hostname_fill)
        return node
    if isinstance(node, dict):
        return {k: _rewrite_tree(v, base, hostname_fill) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_tree(v, base, hostname_fill) for v in node]
    return node


def apply_endpoint(client: Any, base: str) -> None:
    """Send every URL ccxt would use for this exchange to ``base`` (a testnet, proxy or simulator).

    The original hostname is substituted first so templated URLs (``https://api.{hostname}``) resolve; then the
    client's ``hostname`` becomes the override's host, because some signers put the host into the signed payload
    (HTX) and must sign the host the request really goes to.
    """
    urls = copy.deepcopy(client.urls)
    urls["api"] = _rewrite_tree(urls.get("api"), base, getattr(client, "hostname", None))
    client.urls = urls
    client.hostname = urlsplit(base).netloc


def _config(options: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        # The audit scheduler paces requests per exchange itself; ccxt's limiter would serialise a whole audit.
        "enableRateLimit": False,
        "timeout": int(REQUEST_TIMEOUT_S * 1000),
        "options": dict(options or {}),
    }


@lru_cache(maxsize=64)
def _prototype(exchange: str, endpoint: str | None, options_json: str) -> Any:
    """A credential-less client to copy. Building a ccxt client costs 2-5 ms of CPU and ~130 KB (it deep-merges
    the exchange's whole description into the instance); a copy costs ~0.2 ms and ~10 KB, which in a 200-key
    audit is seconds of CPU the GUI thread no longer waits for (GIL) and ~20 MB less at the peak
    (tests/benchmarks: audit_critical_path, gui_stall, memory)."""
    import ccxt.async_support as ccxt_async

    config = _config(json.loads(options_json))
    config["session"] = None  # "a session is given": ccxt will neither create nor close one of its own
    # ccxt's close() sleeps ``timeout_on_exit`` (250 ms) so the TLS connections of a session it owns can shut down;
    # the shared session is closed by its owner, so that sleep only made every key 250 ms slower to report.
    config["timeout_on_exit"] = 0
    proto = getattr(ccxt_async, exchange)(config)
    if endpoint:
        apply_endpoint(proto, endpoint)
    return proto


def _clone(exchange: str, endpoint: str | None, options: Mapping[str, Any] | None) -> Any:
    """A fresh client for one key that shares the prototype's read-only description (api, urls, fees, has, …).
    ``options`` is the state ccxt does write at run time (e.g. ``timeDifference``), so each key gets its own
    copy; credentials, hooks and the session are set on the copy only, never on the prototype."""
    proto = _prototype(exchange, endpoint, json.dumps(dict(options or {}), sort_keys=True, default=repr))
    client = copy.copy(proto)
    client.options = copy.deepcopy(proto.options)
    client.headers = dict(proto.headers or {})
    return client


def create_client(
    exchange: str,
    creds: Credentials | None,
    *,
    endpoint: str | None = None,
    allowlist: readonly.Allowlist,
    options: Mapping[str, Any] | None = None,
    session: Any = None,
    pacer: Any = None,
    configure: Callable[[Any], None] | None = None,
) -> Any:
    """``pacer`` (anything with ``async acquire()``) is awaited right before each request goes out, so the
    exchange's rate limit is kept at the moment requests leave, not when a task happened to start.

    With a ``session`` (an audit: many keys, one connection pool) the client is a copy of a cached prototype."""
    if session is not None:
        client = _clone(exchange, endpoint, options)
        # Ours alone: the shared session (closed by its owner, audit_runner) and the key's credentials.
        client.session = session
        client.ssl_context = shared_ssl_context()  # used by ccxt only for SOCKS proxy sessions; never build one
        for name, value in (creds.to_ccxt() if creds is not None else {}).items():
            setattr(client, name, value)
    else:
        import ccxt.async_support as ccxt_async

        config = _config(options)
        if creds is not None:
            config.update(creds.to_ccxt())
        client = getattr(ccxt_async, exchange)(config)
        if endpoint:
            apply_endpoint(client, endpoint)
    if configure is not None:
        configure(client)  # the adapter's hook (Adapter.configure), after the override it may depend on
    capture = HttpCapture()
    original_on_rest = client.on_rest_response

    def on_rest_response(code, reason, url, method, headers, body, req_headers, req_body):  # type: ignore[no-untyped-def]
        capture.status = int(code) if code is not None else None
        capture.headers = dict(headers or {})
        capture.body = body
        return original_on_rest(code, reason, url, method, headers, body, req_headers, req_body)

    client.on_rest_response = on_rest_response
    client._kh_capture = capture
    readonly.install(client, allowlist)
    # Below ccxt: the request as it is really sent (host, allowlist), no redirects, bounded answers (issue 18).
    client.session = GuardedSession(
        session, hosts=hosts_of(client.urls.get("api"), getattr(client, "hostname", None)), allowlist=allowlist,
        ssl_context=shared_ssl_context(),
    )
    if pacer is not None:
        guarded = client.fetch

        async def paced_fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            slots = await pacer.acquire(url)
            try:
                return await guarded(url, method, headers, body)
            finally:
                pacer.settle(slots)

        client.fetch = paced_fetch
    return client


def capture_of(client: Any) -> HttpCapture:
    return getattr(client, "_kh_capture", HttpCapture())
