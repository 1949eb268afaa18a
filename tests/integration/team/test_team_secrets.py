"""The team vault's secrets on a real OpenBao server: the secret-store contract, and rotation stages as KV versions."""

from __future__ import annotations

import pytest

from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.team_client import TeamClient, TeamConfig
from keyhygiene.store.team_secrets import TeamSecretStore
from tests.helpers.keychain_contract import make_creds
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secret_store_contract import SecretStoreContract, StoresUnderTest


def team_store(server: OpenBaoServer, mount: str | None = None, token: str | None = None) -> TeamSecretStore:
    cfg = TeamConfig(url=server.url, mount=mount or server.new_mount(), timeout=5)
    return TeamSecretStore(TeamClient(cfg, token or server.root_token))


class TestTeamSecretStore(SecretStoreContract):
    @pytest.fixture
    def stores(self, openbao: OpenBaoServer) -> StoresUnderTest:
        return StoresUnderTest(new=lambda: team_store(openbao), held=lambda s: s.key_ids())


def versions(server: OpenBaoServer, store: TeamSecretStore, key_id: str) -> dict[int, bool]:
    """KV version -> whether its data is destroyed, as the server says."""
    md = server.client().secrets.kv.v2.read_secret_metadata(f"keys/{key_id}", mount_point=store.client.cfg.mount)
    return {int(v): bool(i["destroyed"]) for v, i in md["data"]["versions"].items()}


def test_stages_are_kv_versions_labelled_in_custom_metadata(openbao: OpenBaoServer) -> None:
    store = team_store(openbao)
    old, new = make_creds("OLD"), make_creds("NEW")
    store.put("k1", old, CURRENT)
    assert store.labels("k1") == {"current": 1}
    store.put("k1", new, PENDING)
    assert store.labels("k1") == {"current": 1, "pending": 2}
    # Promotion as the rotation machine does it: the pending version becomes current without a second copy,
    # the old current is remembered as previous and its data destroyed.
    store.put("k1", new, CURRENT)
    store.delete("k1", PENDING)
    assert store.labels("k1") == {"current": 2, "previous": 1}
    assert versions(openbao, store, "k1") == {1: True, 2: False}
    assert store.get("k1") == new


def test_a_replaced_pending_key_and_an_unlabelled_version_are_destroyed(openbao: OpenBaoServer) -> None:
    store = team_store(openbao)
    store.put("k1", make_creds("CUR"), CURRENT)
    store.put("k1", make_creds("P1"), PENDING)
    # A crash after writing a version but before moving a label leaves data that nothing points to.
    openbao.client().secrets.kv.v2.create_or_update_secret(
        "keys/k1", secret=make_creds("ORPHAN").to_dict(), mount_point=store.client.cfg.mount)
    p2 = make_creds("P2")
    store.put("k1", p2, PENDING)
    assert store.labels("k1") == {"current": 1, "pending": 4}
    assert versions(openbao, store, "k1") == {1: False, 2: True, 3: True, 4: False}
    assert store.get("k1", PENDING) == p2


def test_a_teammates_write_in_between_is_not_overwritten(openbao: OpenBaoServer) -> None:
    mount = openbao.new_mount()
    mine, theirs = team_store(openbao, mount), team_store(openbao, mount)
    mine.put("k1", make_creds("A"), CURRENT)
    their_pending = make_creds("THEIRS")
    theirs.put("k1", their_pending, PENDING)
    my_pending = make_creds("MINE")
    mine.put("k1", my_pending, PENDING)  # check-and-set: written on top of theirs, as a new version
    assert theirs.get("k1", PENDING) == my_pending
    assert mine.labels("k1") == {"current": 1, "pending": 3}


def test_a_write_racing_a_teammates_is_retried_on_top_of_it(openbao: OpenBaoServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    mount = openbao.new_mount()
    mine, theirs = team_store(openbao, mount), team_store(openbao, mount)
    mine.put("k1", make_creds("A"), CURRENT)
    real = mine._metadata
    raced = []

    def stale_then_real(key_id: str):  # type: ignore[no-untyped-def]
        md = real(key_id)
        if not raced:  # between our read and our write, a teammate replaces the current key
            raced.append(True)
            theirs.put("k1", their_current, CURRENT)
        return md

    their_current = make_creds("THEIRS")
    monkeypatch.setattr(mine, "_metadata", stale_then_real)
    mine_pending = make_creds("MINE")
    # Check-and-set refuses the write made on the stale read; the retry reads again and keeps their current key
    # (labels written from the stale read would have put version 1 back as current).
    mine.put("k1", mine_pending, PENDING)
    assert theirs.get("k1", PENDING) == mine_pending and theirs.get("k1", CURRENT) == their_current
    assert theirs.labels("k1") == {"current": 2, "pending": 3, "previous": 1}
