"""An audit of the team vault reads each key's secret while the exchanges already answer (read_credentials_ahead,
awaited by the key's own check), not all of them before the first check; a missing secret is that key's failed
check as before, and a server that stops answering mid-read is still "vault unavailable" (exit 3)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.service.audit import SECRET_MISSING, run_audit
from keyhygiene.store.team_client import TeamReason, TeamUnavailable
from keyhygiene.store.team_vault import TeamVault
from tests.helpers.secrets_watch import register_secret


def _creds(n: int) -> Credentials:
    c = Credentials(api_key=f"READAHEADKEY{n:03d}{'x' * 8}", secret=f"READAHEADSECRET{n:03d}{'y' * 8}")
    register_secret(c.api_key, c.secret)
    return c


class _Inspector:
    """inspect_many's contract with credential sources: awaits each key's source, as the real one does."""

    accepts_credential_sources = True

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.events = events
        self.got: dict[str, Credentials | None] = {}

    async def __call__(self, items: list[tuple[str, str, Any]], *, on_result: Any, **_kw: Any) -> dict[str, Any]:
        for kid, exchange, source in items:  # one after the other: the first check must not wait for every read
            creds = await source()
            self.got[kid] = creds
            if creds is None:
                continue
            self.events.append(("check", kid))
            on_result(kid, KeyProfile(exchange=exchange, key="READ…xxxx", status=Status.OK, permissions=["read"],
                                      ip_restricted=True))
        return {}


def _slow_reads(monkeypatch: pytest.MonkeyPatch, events: list[tuple[str, str]], delay: float,
                fail: dict[str, BaseException] | None = None) -> None:
    real = TeamVault.credentials
    lock = threading.Lock()

    def credentials(self: TeamVault, key_id: str, slot: str = "current") -> Credentials | None:
        time.sleep(delay)  # a slow server: a duration, not a point in time
        if fail and key_id in fail:
            raise fail[key_id]
        c = real(self, key_id, slot)
        with lock:
            events.append(("read", key_id))
        return c

    monkeypatch.setattr(TeamVault, "credentials", credentials)


def test_checks_start_before_the_last_secret_is_read(team_vault: TeamVault, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [team_vault.add_key("binance" if i % 2 else "kraken", f"k{i}", _creds(i)).id for i in range(16)]
    events: list[tuple[str, str]] = []
    _slow_reads(monkeypatch, events, 0.05)
    inspector = _Inspector(events)
    result = run_audit(team_vault, inspector=inspector)
    assert sorted(k.key.id for k in result.keys) == sorted(ids) and not result.errors
    assert all(str(k.profile.status) == "ok" for k in result.keys)
    assert {kid: c for kid, c in inspector.got.items()} == {kid: team_vault.credentials(kid) for kid in ids}
    first_check = events.index(next(e for e in events if e[0] == "check"))
    last_read = max(i for i, e in enumerate(events) if e[0] == "read")
    assert first_check < last_read, events  # overlapped: the reads were not all done before the first check
    # The exchanges take turns in the reading order: both exchanges' first keys are read first.
    first_two = [next(k for k in result.keys if k.key.id == kid).key.exchange
                 for _ev, kid in [e for e in events if e[0] == "check"][:2]]
    assert sorted(first_two) == ["binance", "kraken"]


def test_a_missing_secret_is_that_keys_failed_check(team_vault: TeamVault) -> None:
    ids = [team_vault.add_key("binance", f"k{i}", _creds(100 + i)).id for i in range(3)]
    team_vault.secrets.delete(ids[1])
    inspector = _Inspector([])
    result = run_audit(team_vault, inspector=inspector)
    by_id = {k.key.id: k for k in result.keys}
    assert str(by_id[ids[1]].profile.status) == "error" and by_id[ids[1]].profile.message == SECRET_MISSING
    assert str(by_id[ids[0]].profile.status) == "ok" and str(by_id[ids[2]].profile.status) == "ok"
    assert team_vault.repo.latest_inspection(ids[1]) is not None  # recorded like any other check


def test_a_server_gone_mid_reads_is_vault_unavailable(team_vault: TeamVault, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [team_vault.add_key("binance", f"k{i}", _creds(200 + i)).id for i in range(8)]
    events: list[tuple[str, str]] = []
    _slow_reads(monkeypatch, events, 0.01,
                fail={ids[3]: TeamUnavailable(TeamReason.DOWN, team_vault.config, "connection failed")})
    inspector = _Inspector(events)
    with pytest.raises(TeamUnavailable) as info:
        run_audit(team_vault, inspector=inspector)
    assert info.value.reason is TeamReason.DOWN
    assert inspector.got[ids[3]] is None  # that key was not checked, nor any waiting for a read after the failure
    assert all(inspector.got.get(kid) is None for kid in ids[4:])


def test_an_inspection_goes_out_in_one_write_without_reading_the_document(
    team_vault: TeamVault, openbao: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache holds the server's document at the version it last saw, so an audit's inspection is written with
    check-and-set against that version without reading it first; when someone wrote in between, the document is
    read and merged (tests/integration/team/test_team_vault.py: a teammate's sharing is kept)."""
    from keyhygiene.paths import app_paths

    rec = team_vault.add_key("binance", "one", _creds(300))
    reads: list[str] = []
    real = TeamVault._read_meta

    def counted(self: TeamVault, key_id: str) -> Any:
        reads.append(key_id)
        return real(self, key_id)

    monkeypatch.setattr(TeamVault, "_read_meta", counted)
    for n in range(2):  # the second on top of the first: our own write is not someone else's
        team_vault.repo.record_inspection(rec.id, KeyProfile(exchange="binance", key=rec.fingerprint,
                                                             status=Status.OK, permissions=["read", f"p{n}"]))
        assert team_vault.flush_publishing() == []
    assert reads == []
    monkeypatch.undo()
    other = TeamVault(app_paths(team_vault.paths.data_dir.parent / "other"), team_vault.config, openbao.root_token)
    try:
        history = other.repo.inspection_history(rec.id)
        assert [sorted(p.permissions) for _at, p in history] == [["p1", "read"], ["p0", "read"]]
        assert other.get_key(rec.id).label == "one"
    finally:
        other.close()


def test_the_reads_run_a_bounded_way_ahead_of_the_checks(team_vault: TeamVault,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets are read in the checks' order a few keys ahead of the checks that asked for them
    (team_vault.SecretReads, READ_AHEAD), not all at once: read all at once, 200 reads took this process's CPU and
    the server's exactly while the checks that bound the audit were being started (tests/benchmarks, team_audit)."""
    import keyhygiene.store.team_vault as team_vault_mod

    ahead = 3
    monkeypatch.setattr(team_vault_mod, "READ_AHEAD", ahead)
    ids = [team_vault.add_key("binance" if i % 2 else "kraken", f"k{i}", _creds(400 + i)).id for i in range(20)]
    events: list[tuple[str, str]] = []
    _slow_reads(monkeypatch, events, 0.002)

    class SlowChecks(_Inspector):
        async def __call__(self, items: list[tuple[str, str, Any]], *, on_result: Any, **kw: Any) -> dict[str, Any]:
            import asyncio

            for item in items:  # each check takes a while: unbounded reads would all be done after the first
                await super().__call__([item], on_result=on_result, **kw)
                await asyncio.sleep(0.02)
            return {}

    inspector = SlowChecks(events)
    result = run_audit(team_vault, inspector=inspector)
    assert sorted(k.key.id for k in result.keys) == sorted(ids) and not result.errors
    assert all(str(k.profile.status) == "ok" for k in result.keys)
    for n, i in enumerate(i for i, e in enumerate(events) if e[0] == "check"):
        read_by_then = sum(1 for e in events[:i] if e[0] == "read")
        assert read_by_then <= n + 1 + ahead, (n, read_by_then, events)


def test_an_audit_asks_the_server_twice_per_key(team_vault: TeamVault, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: per key one secret read and one write of its inspection; besides them the status probe
    and the index's read and write, whatever the number of keys (no metadata re-read per write, no index write per
    key). Each request is CPU here and on the server, which share the machine with the exchanges' traffic."""
    from keyhygiene.store.team_http import LeanSession

    n = 12
    for i in range(n):
        team_vault.add_key("binance" if i % 2 else "kraken", f"k{i}", _creds(500 + i))
    sent: list[str] = []
    real = LeanSession._send

    def counted(self: LeanSession, method: str, target: str, *a: Any, **kw: Any) -> Any:
        sent.append(f"{method} {target.split('?')[0]}")
        return real(self, method, target, *a, **kw)

    monkeypatch.setattr(LeanSession, "_send", counted)
    result = run_audit(team_vault, inspector=_Inspector([]))
    assert len(result.keys) == n and not result.errors
    reads = [s for s in sent if s.startswith("GET") and "/data/keys/" in s]
    writes = [s for s in sent if s.startswith("POST") and "/data/meta/" in s]
    assert len(reads) == n and len(writes) == n, sent
    assert len(sent) <= 2 * n + 6, sent  # probe (health, token, mount) + the index read and write
