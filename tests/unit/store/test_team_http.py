"""team_http.LeanSession, the HTTP under hvac for the team vault: one kept-alive connection per thread, a connection
the server dropped sent again once, redirects handed back (never followed), failures as requests' exceptions, and
anything unusual (a proxy) through requests as before. Against a local http.server: no OpenBao needed."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from keyhygiene.store.team_http import LeanSession


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.seen: list[dict[str, Any]] = []
        self.drop_after_next = False  # close the connection after the next answer, without saying so

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as OpenBao
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append({"method": self.command, "path": self.path, "body": body,
                                 "token": self.headers.get("X-Vault-Token")})
        if self.path.startswith("/moved"):
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        out = json.dumps({"data": {"path": self.path}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        if self.server.drop_after_next:
            self.server.drop_after_next = False
            self.close_connection = True  # as a server whose idle timeout passed: gone, nothing said

    do_GET = do_POST = do_LIST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, *_a: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _get(session: LeanSession, url: str, **kw: Any) -> requests.Response:
    return session.request("GET", url, allow_redirects=False, timeout=5, **kw)


def test_requests_share_one_kept_alive_connection(server: _Server) -> None:
    s = LeanSession(server.url)
    try:
        for i in range(5):
            r = _get(s, f"{server.url}/v1/m/data/k{i}", headers={"X-Vault-Token": "t-123"})
            assert r.ok and r.json() == {"data": {"path": f"/v1/m/data/k{i}"}}
        r = s.request("LIST", f"{server.url}/v1/m/metadata/", allow_redirects=False, timeout=5)
        r = s.request("POST", f"{server.url}/v1/m/data/x", json={"data": {"a": 1}, "options": {"cas": 3}},
                      allow_redirects=False, timeout=5)
        assert r.status_code == 200
    finally:
        s.close()
    assert server.connections == 1
    assert [x["method"] for x in server.seen] == ["GET"] * 5 + ["LIST", "POST"]
    assert server.seen[0]["token"] == "t-123"
    assert json.loads(server.seen[-1]["body"]) == {"data": {"a": 1}, "options": {"cas": 3}}


def test_a_connection_the_server_dropped_is_sent_again_once(server: _Server) -> None:
    s = LeanSession(server.url)
    try:
        server.drop_after_next = True
        assert _get(s, f"{server.url}/v1/a").ok
        assert _get(s, f"{server.url}/v1/b").json() == {"data": {"path": "/v1/b"}}
    finally:
        s.close()
    assert server.connections == 2 and [x["path"] for x in server.seen] == ["/v1/a", "/v1/b"]


def test_a_redirect_comes_back_unfollowed(server: _Server) -> None:
    s = LeanSession(server.url)
    try:
        r = _get(s, f"{server.url}/moved", headers={"X-Vault-Token": "t-456"})
    finally:
        s.close()
    assert r.status_code == 307 and len(server.seen) == 1


def test_failures_are_requests_exceptions() -> None:
    with socket.socket() as quiet:  # accepts the connection, never answers
        quiet.bind(("127.0.0.1", 0))
        quiet.listen(4)
        url = f"http://127.0.0.1:{quiet.getsockname()[1]}"
        s = LeanSession(url)
        with pytest.raises(requests.exceptions.Timeout):
            s.request("GET", f"{url}/v1/x", allow_redirects=False, timeout=0.3)
        s.close()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: refused
        s = LeanSession(url)
        with pytest.raises(requests.exceptions.ConnectionError):
            s.request("GET", f"{url}/v1/x", allow_redirects=False, timeout=2)
        s.close()


def test_a_proxy_goes_through_requests(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    s = LeanSession(server.url)
    s.proxies = {"http": "http://127.0.0.1:9"}
    sent: list[str] = []

    def via_requests(self: requests.Session, method: str, url: str, **kw: Any) -> str:
        sent.append(url)
        return "requests"

    monkeypatch.setattr(requests.Session, "request", via_requests)
    try:
        assert s.request("GET", f"{server.url}/v1/x", allow_redirects=False, timeout=2) == "requests"
    finally:
        s.close()
    assert sent == [f"{server.url}/v1/x"] and server.seen == []


def test_connections_of_ended_threads_are_closed(server: _Server) -> None:
    s = LeanSession(server.url)
    try:
        for _ in range(3):
            t = threading.Thread(target=lambda: _get(s, f"{server.url}/v1/x"))
            t.start()
            t.join()
        _get(s, f"{server.url}/v1/y")
        assert len(s._all) == 1  # the three ended threads' connections were closed, not kept
    finally:
        s.close()


def test_the_environment_is_read_once_as_requests_would(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from keyhygiene.store.team_client import TeamConfig, _session_for

    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read here")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    s = _session_for(TeamConfig(url="https://vault.example.com:8200"))
    assert s.proxies.get("https") == "http://proxy.example:3128" and s.verify == str(bundle) and not s.trust_env
    # A CA given at connect wins over the environment's bundle, as with requests.
    s2 = _session_for(TeamConfig(url="https://vault.example.com:8200", ca_cert=str(bundle.with_name("mine.pem"))))
    assert s2.verify == str(bundle.with_name("mine.pem"))
    monkeypatch.setenv("NO_PROXY", "vault.example.com")
    assert not _session_for(TeamConfig(url="https://vault.example.com:8200")).proxies.get("https")
    for session in (s, s2):
        session.close()
