"""Rotations in the team vault: the journal goes to ``rotations/<id>`` with check-and-set, so two teammates can
never hold one key's rotation; the second is told who holds it and since when."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.core.rotation.journal import Journal
from keyhygiene.core.rotation.states import Action, Step
from keyhygiene.core.timeutil import utcnow
from keyhygiene.paths import app_paths
from keyhygiene.store.team_client import TeamConfig
from keyhygiene.store.team_journal import RotationClaimed
from keyhygiene.store.team_vault import TeamVault
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secrets_watch import watch_dir
from tests.unit.store.test_vault import Secret, creds

HCL = """
path "{m}/data/*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "{m}/metadata/*" {{ capabilities = ["read", "list", "update", "delete"] }}
path "{m}/destroy/*" {{ capabilities = ["update"] }}
"""


@pytest.fixture
def pair(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> Iterator[tuple[TeamVault, TeamVault]]:
    hcl = HCL.format(m=team_config.mount)
    vaults = []
    for name in ("alice", "bob"):
        c = openbao.client()
        c.sys.create_or_update_policy(name=f"r-{team_config.mount}", policy=hcl)
        token = c.auth.token.create(policies=[f"r-{team_config.mount}"], display_name=name, ttl="1h")
        tok = token["auth"]["client_token"]
        from tests.helpers.secrets_watch import register_secret

        register_secret(tok)
        watch_dir(tmp_path / name)
        vaults.append(TeamVault(app_paths(tmp_path / name), team_config, tok))
    try:
        yield vaults[0], vaults[1]
    finally:
        for v in vaults:
            v.close()


def start(v: TeamVault, key_id: str) -> int:
    rec = v.get_key(key_id)
    return Journal(v.db, hook=None).start(key_id, rec.fingerprint, Step.NEW_KEY, {}).id


def test_the_second_teammate_is_told_who_rotates_the_key(pair: tuple[TeamVault, TeamVault], secret: Secret) -> None:
    alice, bob = pair
    rec = alice.add_key("binance", "x", creds(secret))
    bob.refresh()
    rid = start(alice, rec.id)
    with pytest.raises(RotationClaimed, match=r"being rotated by token-alice \(.*\) since \d{4}-") as info:
        start(bob, rec.id)
    assert info.value.who.startswith("token-alice")
    assert Journal(bob.db, hook=None).open_for(rec.id) is None  # his cache rolled back with the refused claim
    # Alice's journal is on the server, step by step; when she finishes, the key is free again.
    j = Journal(alice.db, hook=None)
    j.begin(rid, Action.STORE_PENDING, {"fingerprint": "ab…cd"})
    _v, doc = alice.journal.read(rec.id)
    assert doc is not None and doc["open"] and [e["step"] for e in doc["journal"]] == ["start", "store_pending"]
    j.done(rid, Action.DISCARD_PENDING, state=Step.CANCELLED, columns={"finished_at": utcnow()})
    bob_rid = start(bob, rec.id)
    assert Journal(bob.db, hook=None).get(bob_rid).open


def test_concurrent_starts_one_wins_one_gets_the_message(pair: tuple[TeamVault, TeamVault], secret: Secret) -> None:
    alice, bob = pair
    rec = alice.add_key("binance", "x", creds(secret))
    bob.refresh()
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def run(name: str, v: TeamVault) -> None:
        barrier.wait()
        try:
            outcome[name] = start(v, rec.id)
        except RotationClaimed as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=(n, v)) for n, v in (("alice", alice), ("bob", bob))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [n for n, o in outcome.items() if isinstance(o, int)]
    losses = [o for o in outcome.values() if isinstance(o, RotationClaimed)]
    assert len(wins) == 1 and len(losses) == 1, outcome
    assert f"token-{wins[0]}" in str(losses[0])
    _v, doc = alice.journal.read(rec.id)
    assert doc is not None and doc["claimant"]["who"].startswith(f"token-{wins[0]}")


def test_an_own_open_rotation_comes_back_after_the_cache_is_lost(
    pair: tuple[TeamVault, TeamVault], team_config: TeamConfig, secret: Secret
) -> None:
    alice, _bob = pair
    rec = alice.add_key("binance", "x", creds(secret))
    rid = start(alice, rec.id)
    Journal(alice.db, hook=None).begin(rid, Action.STORE_PENDING, {"fingerprint": "ab…cd"})
    token = alice.client.hvac.token
    paths = alice.paths
    alice.close()
    TeamVault.cache_path(paths, team_config).unlink()
    with TeamVault(paths, team_config, token) as again:
        j = Journal(again.db, hook=None)
        rot = j.open_for(rec.id)
        assert rot is not None and rot.state is Step.NEW_KEY
        assert j.interrupted(rot.id) is not None and j.interrupted(rot.id).action is Action.STORE_PENDING
