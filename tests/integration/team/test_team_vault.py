"""The team vault as the layers above see it (a ``Vault``), on a real OpenBao server.

The vault tests that need nothing but a vault run here unchanged, imported from the local suite with ``vault``
bound to the team vault; the rest check what only a shared server can do: two app instances with different
tokens, the cache that loses nothing, concurrent changes that are never silently overwritten.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.paths import app_paths
from keyhygiene.store.keychain import PENDING
from keyhygiene.store.team_client import TeamConfig
from keyhygiene.store.team_vault import ConcurrentChange, TeamVault
from keyhygiene.store.vault import NotFound, ServiceRef, ValidationError
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secrets_watch import watch_dir
from tests.unit.store.test_vault import (  # noqa: F401 - collected here with the team vault as ``vault``
    Secret,
    creds,
    test_a_label_of_exactly_200_characters_is_fine,
    test_get_and_list,
    test_passphrase_exchanges_store_the_passphrase,
    test_printable_unicode_labels_and_surrounding_line_breaks_are_fine,
    test_remove_a_row_whose_secret_is_already_gone,
    test_share_and_unshare_record_history,
    test_update_key_validates,
)

TRADER_HCL = """
path "{m}/data/*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "{m}/metadata/*" {{ capabilities = ["read", "list", "update", "delete"] }}
path "{m}/destroy/*" {{ capabilities = ["update"] }}
"""


@pytest.fixture
def vault(team_vault: TeamVault) -> TeamVault:
    return team_vault


def open_team(tmp_path: Path, name: str, cfg: TeamConfig, token: str) -> TeamVault:
    d = tmp_path / name
    watch_dir(d)
    return TeamVault(app_paths(d), cfg, token)


@pytest.fixture
def teammates(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> Iterator[tuple[TeamVault, TeamVault]]:
    hcl = TRADER_HCL.format(m=team_config.mount)
    alice = open_team(tmp_path, "alice", team_config, openbao.token_with_policy(f"t-{team_config.mount}", hcl))
    bob = open_team(tmp_path, "bob", team_config, openbao.token_with_policy(f"t-{team_config.mount}", hcl))
    try:
        yield alice, bob
    finally:
        alice.close()
        bob.close()


def test_two_instances_with_different_tokens_see_each_others_keys_and_sharings(
    teammates: tuple[TeamVault, TeamVault], secret: Secret
) -> None:
    alice, bob = teammates
    c = creds(secret)
    rec = alice.add_key("binance", "desk bot", c, purpose="bot", shared_with=[ServiceRef("3commas", date(2022, 5, 1))])
    bob.refresh()
    theirs = bob.get_key(rec.id)
    assert (theirs.label, theirs.shared_with, theirs.fingerprint) == ("desk bot", ["3commas"], rec.fingerprint)
    assert bob.credentials(rec.id) == c
    bob.share(rec.id, ServiceRef.parse("koinly@2023-01-02"))
    bob.update_key(rec.id, label="desk bot (shared)")
    alice.refresh()
    mine = alice.get_key(rec.id)
    assert mine.shared_with == ["3commas", "koinly"] and mine.label == "desk bot (shared)"
    alice.remove_key(rec.id)
    bob.refresh()
    with pytest.raises(NotFound):
        bob.get_key(rec.id)
    assert bob.secrets.key_ids() == set()


def test_inspections_are_shared_and_the_metadata_holds_no_secret(
    teammates: tuple[TeamVault, TeamVault], openbao: OpenBaoServer, secret: Secret
) -> None:
    alice, bob = teammates
    c = creds(secret, passphrase=True)
    rec = alice.add_key("okx", "x", c)
    profile = KeyProfile(exchange="okx", key=rec.fingerprint, status=Status.OK, permissions=["read", "withdraw"])
    alice.repo.record_inspection(rec.id, profile)
    assert alice.flush_publishing() == []  # inspections travel off the caller's thread
    bob.refresh()
    got = bob.repo.latest_inspection(rec.id)
    assert got is not None and got[1].permissions == ["read", "withdraw"]
    meta = openbao.client().secrets.kv.v2.read_secret_version(f"meta/{rec.id}", mount_point=alice.config.mount,
                                                              raise_on_deleted_version=True)
    text = str(meta["data"]["data"])
    assert rec.fingerprint in text
    for value in c.secret_values():
        assert value not in text


def test_the_cache_is_only_a_cache(tmp_path: Path, team_vault: TeamVault, team_config: TeamConfig,
                                   openbao: OpenBaoServer, secret: Secret) -> None:
    c = creds(secret)
    rec = team_vault.add_key("binance", "x", c, shared_with=[ServiceRef("koinly")])
    team_vault.close()
    shutil.rmtree(team_vault.paths.data_dir)
    with TeamVault(team_vault.paths, team_config, openbao.root_token) as again:
        assert again.get_key(rec.id).shared_with == ["koinly"]
        assert again.credentials(rec.id) == c


def test_a_server_refusal_leaves_the_cache_unchanged(teammates: tuple[TeamVault, TeamVault], secret: Secret) -> None:
    alice, bob = teammates
    rec = alice.add_key("binance", "x", creds(secret))
    bob.refresh()
    alice.update_key(rec.id, label="alice's name")
    # Bob's copy is older than the server's: check-and-set refuses his write instead of losing Alice's.
    with pytest.raises(ConcurrentChange, match="changed by a teammate"):
        bob.update_key(rec.id, label="bob's name")
    assert bob.get_key(rec.id).label == "x"  # his cache rolled back with the refused write
    bob.refresh()
    assert bob.get_key(rec.id).label == "alice's name"
    assert bob.update_key(rec.id, label="bob's name").label == "bob's name"


def test_a_key_a_teammate_stored_is_a_duplicate(teammates: tuple[TeamVault, TeamVault], secret: Secret) -> None:
    alice, bob = teammates
    c = creds(secret)
    first = alice.add_key("binance", "first", c)
    bob.refresh()
    with pytest.raises(ValidationError, match=first.id):
        bob.add_key("binance", "again", Credentials(api_key=c.api_key, secret=secret("S2")))


def test_remove_deletes_both_slots_on_the_server(team_vault: TeamVault, secret: Secret) -> None:
    rec = team_vault.add_key("binance", "x", creds(secret))
    team_vault.secrets.put(rec.id, creds(secret), PENDING)
    keep = team_vault.add_key("binance", "y", creds(secret))
    team_vault.remove_key(rec.id)
    assert team_vault.secrets.key_ids() == {keep.id}


def test_bad_input_writes_nothing_to_the_server(team_vault: TeamVault, secret: Secret) -> None:
    with pytest.raises(ValidationError):
        team_vault.add_key("binance", "a\nb", creds(secret))
    with pytest.raises(ValidationError):
        team_vault.add_key("kucoin", "x", Credentials(api_key=secret("K"), secret=secret("S")))
    assert team_vault.secrets.key_ids() == set() and team_vault.refresh() == 0


def test_a_refresh_reads_only_what_changed_and_copes_without_the_index(
    teammates: tuple[TeamVault, TeamVault], openbao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch, secret: Secret
) -> None:
    alice, bob = teammates
    ids = [alice.add_key("binance", f"k{i}", creds(secret)).id for i in range(4)]
    bob.refresh()
    reads: list[str] = []
    real = bob._read_meta
    monkeypatch.setattr(bob, "_read_meta", lambda kid: reads.append(kid) or real(kid))
    assert bob.refresh() == 4 and reads == []  # nothing changed: the listing and the index only
    alice.update_key(ids[2], label="renamed")
    alice.remove_key(ids[3])
    assert bob.refresh() == 3 and reads == [ids[2]]
    assert bob.get_key(ids[2]).label == "renamed" and ids[3] not in {k.id for k in bob.list_keys()}
    # Without the index (an older server copy, or an admin removed it) every document is read again.
    openbao.client().secrets.kv.v2.delete_metadata_and_all_versions("index", mount_point=alice.config.mount)
    reads.clear()
    assert bob.refresh() == 3 and sorted(reads) == sorted(ids[:3])


def test_inspections_merge_into_the_servers_copy_and_never_block_ones_own_edits(
    teammates: tuple[TeamVault, TeamVault], secret: Secret
) -> None:
    alice, bob = teammates
    rec = alice.add_key("binance", "x", creds(secret))
    bob.refresh()
    bob.share(rec.id, ServiceRef.parse("koinly@2023-01-02"))  # Alice's copy does not know this yet
    profile = KeyProfile(exchange="binance", key=rec.fingerprint, status=Status.OK, permissions=["read"])
    alice.repo.record_inspection(rec.id, profile)
    assert alice.flush_publishing() == []
    bob.refresh()
    assert bob.get_key(rec.id).shared_with == ["koinly"]  # her inspection did not undo his sharing
    got = bob.repo.latest_inspection(rec.id)
    assert got is not None and got[1].permissions == ["read"]
    # Bob's own edit right after his own inspection is not a conflict with himself.
    bob.repo.record_inspection(rec.id, profile)
    assert bob.update_key(rec.id, label="renamed").label == "renamed"
    assert bob.flush_publishing() == []
    alice.refresh()
    assert alice.get_key(rec.id).label == "renamed" and len(alice.repo.inspection_history(rec.id)) == 2
