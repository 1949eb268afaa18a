"""The HTTP underneath ``hvac`` for the team vault: a ``requests.Session`` that sends the plain requests hvac makes
to the one server over ``http.client``, one keep-alive connection per thread.

Why: an audit makes a few hundred calls to the server (each key's secret, each key's inspection sent back) on
threads that share the GIL with the event loop pacing the exchanges' requests. Through requests and urllib3 a call
costs about 0.5 ms of CPU; over ``http.client`` about a quarter of that, and that CPU is the team audit's overhead
over the local one (tests/benchmarks, team_audit).

Same behaviour as requests where it matters: TLS verified against the same CA (``verify``: the bundle requests
would use, or the ``--ca-cert`` file), the same timeout on every socket operation, redirects never followed (the
3xx comes back as the response), and failures raised as requests' own exceptions (SSLError, Timeout,
ConnectionError), so ``TeamClient.call`` maps them unchanged. Anything this does not do (a proxy, a client
certificate, another host, following redirects) goes through requests as before.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import os
import ssl
import threading
import weakref
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

# A kept-alive connection the server has closed meanwhile fails like this on its next use: sent again, once, on a
# fresh connection (what urllib3 does for a pooled connection found dropped).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class LeanSession(requests.Session):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        parts = urlsplit(base_url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._local = threading.local()
        # Every thread's connection, to close it when its thread has ended (audits and refreshes use short-lived
        # pools) and all of them when the session goes.
        self._all: list[tuple[weakref.ref[threading.Thread], http.client.HTTPConnection]] = []
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        weakref.finalize(self, _close_all, self._all)

    # ---- requests.Session --------------------------------------------------------------------------------
    def request(self, method: str | bytes, url: str | bytes, params: Any = None, data: Any = None,
                headers: Any = None, cookies: Any = None, files: Any = None, auth: Any = None,
                timeout: Any = None, allow_redirects: bool = True, proxies: Any = None, hooks: Any = None,
                stream: Any = None, verify: Any = None, cert: Any = None, json: Any = None) -> requests.Response:
        parts = urlsplit(url if isinstance(url, str) else url.decode())
        plain = (
            isinstance(method, str) and not allow_redirects and not (proxies or self.proxies)
            and not (cert or self.cert) and not files and not auth and not cookies and not hooks and not stream
            and parts.scheme == self._scheme and parts.hostname == self._host
            and (parts.port or (443 if parts.scheme == "https" else 80)) == self._port
            and (timeout is None or isinstance(timeout, int | float))
            and not isinstance(data, dict)
        )
        if not plain:
            return super().request(method, url, params=params, data=data, headers=headers, cookies=cookies,
                                   files=files, auth=auth, timeout=timeout, allow_redirects=allow_redirects,
                                   proxies=proxies, hooks=hooks, stream=stream, verify=verify, cert=cert, json=json)
        assert isinstance(method, str)
        target = parts.path or "/"
        query = "&".join(q for q in (parts.query, urlencode(params, doseq=True) if params else "") if q)
        if query:
            target += "?" + query
        sent_headers = {"Accept": "*/*", **dict(headers or {})}
        body: bytes | None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        elif isinstance(data, str):
            body = data.encode()
        else:
            body = data
        return self._send(method.upper(), target, body, sent_headers, timeout,
                          self.verify if verify is None else verify, url if isinstance(url, str) else url.decode())

    def close(self) -> None:
        with self._lock:
            _close_all(self._all)
        super().close()

    # ---- over http.client ----------------------------------------------------------------------------------
    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str], timeout: float | None,
              verify: Any, url: str) -> requests.Response:
        for attempt in (1, 2):
            conn, reused = self._connection(timeout, verify)
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
                content = resp.read()
            except _STALE:
                conn.close()
                if reused and attempt == 1:
                    continue
                raise requests.exceptions.ConnectionError(f"the connection to {self._host} was closed") from None
            except TimeoutError:
                conn.close()
                raise requests.exceptions.Timeout(f"no answer from {self._host} in {timeout} s") from None
            except (ssl.SSLError, ssl.CertificateError) as exc:
                conn.close()
                raise requests.exceptions.SSLError(str(exc)) from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise requests.exceptions.ConnectionError(f"{type(exc).__name__} talking to {self._host}") from None
            self._local.used = True
            if resp.will_close:
                conn.close()  # the next request on this thread opens a new one
            return _response(resp, content, url)
        raise AssertionError("unreachable")

    def _connection(self, timeout: float | None, verify: Any) -> tuple[http.client.HTTPConnection, bool]:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.timeout == timeout and getattr(self._local, "verify", None) == verify:
            return conn, conn.sock is not None and bool(getattr(self._local, "used", False))
        if conn is not None:
            conn.close()
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout,
                                               context=self._context(verify))
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        self._local.conn, self._local.verify, self._local.used = conn, verify, False
        with self._lock:
            ended = [(t, c) for t, c in self._all if t() is None or not t().is_alive()]  # type: ignore[union-attr]
            for item in ended:
                self._all.remove(item)
                item[1].close()
            self._all.append((weakref.ref(threading.current_thread()), conn))
        return conn, False

    def _context(self, verify: Any) -> ssl.SSLContext:
        """The CA requests would trust for ``verify``: True is requests' own bundle (certifi), a path is that
        file or folder. Never unverified: the team vault is always verified (team_client.TeamClient)."""
        if verify is False:
            raise requests.exceptions.SSLError("refusing to talk to the team vault without verifying its certificate")
        key = str(verify)
        with self._lock:
            ctx = self._contexts.get(key)
            if ctx is None:
                from requests.utils import DEFAULT_CA_BUNDLE_PATH

                where = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
                ctx = (ssl.create_default_context(capath=where) if os.path.isdir(where)
                       else ssl.create_default_context(cafile=where))
                self._contexts[key] = ctx
        return ctx


def _close_all(conns: list[tuple[Any, http.client.HTTPConnection]]) -> None:
    items = list(conns)
    conns.clear()
    for _thread, conn in items:
        conn.close()


def _response(resp: http.client.HTTPResponse, content: bytes, url: str) -> requests.Response:
    r = requests.Response()
    r.status_code = resp.status
    r.reason = resp.reason
    r.headers = CaseInsensitiveDict(resp.getheaders())
    r._content = content
    r.url = url
    r.encoding = "utf-8"  # the server speaks JSON; requests would otherwise guess, at a cost
    return r
