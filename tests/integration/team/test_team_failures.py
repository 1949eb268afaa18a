"""The team vault when things go wrong: server down (also mid-audit), sealed, token expired or revoked, 403, timeout,
TLS. Each is a clear status; commands exit 3 ("vault unavailable"); the cache stays readable for display."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.paths import app_paths
from keyhygiene.service import team
from keyhygiene.service.audit import run_audit
from keyhygiene.store.keychain import KeychainState
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.team_client import TeamClient, TeamConfig, TeamReason, TeamUnavailable
from keyhygiene.store.team_vault import TeamVault
from tests.helpers.openbao import OpenBaoServer, running_openbao
from tests.helpers.secrets_watch import register_secret, watch_dir


@pytest.fixture
def own_server() -> Iterator[OpenBaoServer]:
    """A server of this test's own: it gets stopped or sealed."""
    with running_openbao() as server:
        yield server


def connected(tmp_path: Path, server: OpenBaoServer, token: str | None = None) -> tuple[Path, TeamConfig]:
    d = tmp_path / "data"
    watch_dir(d)
    mount = server.new_mount()
    team.connect(app_paths(d), server.url, token or server.root_token, mount=mount)
    return d, TeamConfig(url=server.url, mount=mount)


def creds(n: int) -> Credentials:
    c = Credentials(api_key=f"FAILKEY{n}{'x' * 12}", secret=f"FAILSECRET{n}{'y' * 12}")
    register_secret(c.api_key, c.secret)
    return c


def test_server_stopped_mid_audit(tmp_path: Path, own_server: OpenBaoServer, memory_keyring: MemoryKeyring) -> None:
    d, _cfg = connected(tmp_path, own_server)
    with team.open_backend(app_paths(d)) as v:
        ids = [v.add_key("binance", f"k{i}", creds(i)).id for i in range(3)]

        async def inspector(items: list[tuple[str, str, Credentials]], *, on_result: Any, **_kw: Any) -> None:
            for n, (kid, exchange, _c) in enumerate(items):
                if n == 1:
                    v.flush_publishing()  # the first result has reached the server by now
                    own_server.stop()  # the team vault goes away while the exchanges still answer
                on_result(kid, KeyProfile(exchange=exchange, key="FAIL…xxxx", status=Status.OK,
                                          permissions=["read", "withdraw"], ip_restricted=False))

        result = run_audit(v, inspector=inspector)
    assert sorted(k.key.id for k in result.keys) == sorted(ids)  # every key judged
    assert all(any(f.rule == "withdraw_enabled" for f in k.findings) for k in result.keys)
    assert len(result.errors) == 2 and all("does not answer" in e for e in result.errors)
    with pytest.raises(TeamUnavailable) as info:
        team.open_backend(app_paths(d))
    assert info.value.reason is TeamReason.DOWN and info.value.status.state is KeychainState.UNAVAILABLE
    # The window's way: the cached metadata, read-only, with the reason.
    with team.open_backend(app_paths(d), offline_ok=True) as v:
        assert v.offline is not None and sorted(k.id for k in v.list_keys()) == sorted(ids)
        saved = v.repo.latest_inspection(ids[0])
    assert saved is not None
    st = team.status(app_paths(d))
    assert (st.connected, st.reason, st.state) == (True, "down", "unavailable")


def test_sealed(tmp_path: Path, own_server: OpenBaoServer, memory_keyring: MemoryKeyring) -> None:
    d, _cfg = connected(tmp_path, own_server)
    own_server.client().sys.seal()
    st = team.status(app_paths(d))
    assert st.reason == "sealed" and st.state == "locked" and "unseal" in st.message
    with pytest.raises(TeamUnavailable) as info:
        team.open_backend(app_paths(d))
    assert info.value.reason is TeamReason.SEALED


def test_token_revoked_and_token_expired(tmp_path: Path, openbao: OpenBaoServer,
                                         memory_keyring: MemoryKeyring) -> None:
    token = openbao.client().auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    register_secret(token)
    d, _cfg = connected(tmp_path, openbao, token)
    openbao.client().auth.token.revoke(token)
    st = team.status(app_paths(d))
    assert st.reason == "token_refused" and st.state == "refused" and "connect" in st.message
    short = openbao.client().auth.token.create(policies=["root"], ttl="1s", explicit_max_ttl="1s")
    short_token = short["auth"]["client_token"]
    register_secret(short_token)
    d2, _cfg2 = connected(tmp_path / "2", openbao, short_token)
    time.sleep(2.5)  # a duration, not a point in time: the token's one-second life is over
    with pytest.raises(TeamUnavailable) as info:
        team.open_backend(app_paths(d2))
    assert info.value.reason is TeamReason.TOKEN_REFUSED


def test_forbidden(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> None:
    other = openbao.new_mount()
    token = openbao.token_with_policy(f"only-{other}", f'path "{other}/*" {{ capabilities = ["read", "list"] }}')
    with pytest.raises(TeamUnavailable) as info:
        TeamVault(app_paths(tmp_path / "d"), team_config, token)
    assert info.value.reason is TeamReason.FORBIDDEN and "ask an admin" in info.value.status.message
    assert TeamClient(team_config, token).probe()[0] is TeamReason.NOT_KV2


def test_timeout(tmp_path: Path) -> None:
    # A listener that never answers: the kernel accepts the connection, nobody reads the request.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        cfg = TeamConfig(url=f"http://127.0.0.1:{s.getsockname()[1]}", mount="x", timeout=0.5)
        started = time.monotonic()
        assert TeamClient(cfg, "some-token-1234").probe()[0] is TeamReason.TIMEOUT
        with pytest.raises(TeamUnavailable) as info:
            TeamVault(app_paths(tmp_path / "d"), cfg, "some-token-1234")
        assert info.value.reason is TeamReason.TIMEOUT and "in time" in info.value.status.message
        assert time.monotonic() - started < 10


def test_tls_that_cannot_be_verified(tmp_path: Path, openbao: OpenBaoServer, team_mount: str) -> None:
    cfg = TeamConfig(url=openbao.url.replace("http://", "https://"), mount=team_mount, timeout=3)
    assert TeamClient(cfg, openbao.root_token).probe()[0] is TeamReason.TLS
    with pytest.raises(TeamUnavailable) as info:
        TeamVault(app_paths(tmp_path / "d"), cfg, openbao.root_token)
    assert info.value.reason is TeamReason.TLS and "--ca-cert" in info.value.status.message


def test_a_redirect_is_never_followed_with_the_token(tmp_path: Path) -> None:
    import http.server
    import threading

    token = "redirect-test-token-0123456789"
    register_secret(token)
    reached: list[str] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            reached.append(self.headers.get("X-Vault-Token") or "")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"data": {"keys": []}}')

        do_LIST = do_GET  # noqa: N815

        def log_message(self, *_a: Any) -> None:
            pass

    elsewhere = http.server.HTTPServer(("127.0.0.1", 0), Elsewhere)

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}{self.path}")
            self.end_headers()

        do_LIST = do_GET  # noqa: N815

        def log_message(self, *_a: Any) -> None:
            pass

    redirecting = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    for srv in (elsewhere, redirecting):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        cfg = TeamConfig(url=f"http://127.0.0.1:{redirecting.server_port}", mount="m", timeout=3)
        assert TeamClient(cfg, token).probe()[0] is TeamReason.REDIRECTED
        with pytest.raises(TeamUnavailable) as info:
            TeamVault(app_paths(tmp_path / "d"), cfg, token)
        assert info.value.reason is TeamReason.REDIRECTED and "does not follow" in info.value.status.message
        assert reached == []  # the token never went to the other address
    finally:
        for srv in (elsewhere, redirecting):
            srv.shutdown()
            srv.server_close()
