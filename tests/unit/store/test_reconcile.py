"""Issue 18 items 1-2: the vault id survives a lost database; keychain and database are reconciled."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.paths import app_paths
from keyhygiene.store import vault as vault_mod
from keyhygiene.store.database import DatabaseCorrupt
from keyhygiene.store.keychain import CURRENT
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.reconcile import MISSING_SECRET, ORPHANED_SECRET, UNFINISHED_ADD, reconcile, repair
from keyhygiene.store.repository import ADDING
from keyhygiene.store.vault import Vault, read_vault_ids


def creds(secret: object) -> Credentials:
    return Credentials(api_key=secret("K"), secret=secret("S"))  # type: ignore[operator]


def test_the_vault_id_is_kept_beside_the_database_and_reused_by_a_new_one(
    data_dir: Path, memory_keyring: MemoryKeyring, secret: object
) -> None:
    paths = app_paths(data_dir)
    with Vault(paths, backend=memory_keyring) as v:
        vid = v.secrets.vault_id
        rec = v.add_key("binance", "main", creds(secret))
    assert read_vault_ids(paths) == [vid]
    paths.database.unlink()  # the database is lost; the keychain entry is not
    for extra in ("-wal", "-shm"):
        paths.database.with_name(paths.database.name + extra).unlink(missing_ok=True)
    with Vault(paths, backend=memory_keyring) as v:
        assert v.secrets.vault_id == vid
        assert v.list_keys() == []
        found = reconcile(paths, v)
        assert [(f.kind, f.key_id) for f in found.findings] == [(ORPHANED_SECRET, rec.id)]
        assert found.findings[0].exchange == "binance" and found.findings[0].label == "main"
        print(repair(v, found.findings[0], "adopt"))
        [back] = v.list_keys()
        assert (back.id, back.exchange, back.label, back.fingerprint) == (rec.id, "binance", "main", rec.fingerprint)
        assert reconcile(paths, v).consistent


def test_a_zeroed_database_reports_the_orphans_of_its_vault(
    data_dir: Path, memory_keyring: MemoryKeyring, secret: object
) -> None:
    paths = app_paths(data_dir)
    with Vault(paths, backend=memory_keyring) as v:
        rec = v.add_key("okx", "desk", Credentials(api_key=secret("K"), secret=secret("S"), passphrase="p"))
    paths.database.write_bytes(b"")
    with pytest.raises(DatabaseCorrupt):
        Vault(paths, backend=memory_keyring)
    found = reconcile(paths, None, backend=memory_keyring)
    assert [(f.kind, f.key_id, f.exchange) for f in found.findings] == [(ORPHANED_SECRET, rec.id, "okx")]


def test_an_add_killed_after_the_keychain_write_is_found_and_finished(
    vault: Vault, memory_keyring: MemoryKeyring, secret: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = creds(secret)

    def killed(*a: object, **kw: object) -> None:
        raise SystemExit(137)  # stands in for the kill between the keychain write and the commit

    real_update = vault.repo.update_key
    monkeypatch.setattr(vault.repo, "update_key", killed)
    monkeypatch.setattr(vault, "_drop_unfinished", lambda key_id: None)  # a killed process cleans nothing up
    with pytest.raises(SystemExit):
        vault.add_key("binance", "half", c)
    monkeypatch.setattr(vault.repo, "update_key", real_update)
    assert vault.list_keys() == []  # not shown as a key
    found = reconcile(vault.paths, vault)
    [f] = found.findings
    assert f.kind == UNFINISHED_ADD and f.actions == ("adopt", "remove")
    assert secret_values_absent(f.to_json(), c)
    repair(vault, f, "adopt")
    [rec] = vault.list_keys()
    assert rec.label == "half" and vault.credentials(rec.id) == c
    assert reconcile(vault.paths, vault).consistent


def test_an_add_killed_before_the_keychain_write_is_removed_or_taken_over_by_adding_again(
    vault: Vault, secret: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = creds(secret)

    def killed(*a: object, **kw: object) -> None:
        raise SystemExit(137)

    monkeypatch.setattr(vault.secrets, "put", killed)
    monkeypatch.setattr(vault, "_drop_unfinished", lambda key_id: None)
    with pytest.raises(SystemExit):
        vault.add_key("binance", "first try", c)
    monkeypatch.undo()
    [f] = reconcile(vault.paths, vault).findings
    assert f.kind == UNFINISHED_ADD and f.actions == ("remove",)
    rec = vault.add_key("binance", "second try", c)  # the same key again: takes the unfinished add over
    assert [k.id for k in vault.list_keys()] == [rec.id]
    assert vault.repo.unfinished_adds() == []
    assert reconcile(vault.paths, vault).consistent


def test_a_key_whose_secret_vanished_is_reported_with_the_command_that_resolves_it(
    vault: Vault, memory_keyring: MemoryKeyring, secret: object
) -> None:
    rec = vault.add_key("binance", "gone", creds(secret))
    vault.secrets.delete(rec.id, CURRENT)
    [f] = reconcile(vault.paths, vault).findings
    assert (f.kind, f.resolve) == (MISSING_SECRET, f"keyhygiene keys remove {rec.id}")
    repair(vault, f, "remove")
    assert vault.list_keys() == [] and reconcile(vault.paths, vault).consistent


def test_a_failed_add_leaves_neither_row_nor_entry(vault: Vault, memory_keyring: MemoryKeyring,
                                                    secret: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.errors

    def refuse(*a: object, **kw: object) -> None:
        raise keyring.errors.PasswordSetError("refused")

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    with pytest.raises(Exception, match="keychain|Keychain|available"):
        vault.add_key("binance", "x", creds(secret))
    assert vault.db.query("SELECT COUNT(*) FROM keys")[0][0] == 0
    assert memory_keyring.entries() == {}


def secret_values_absent(doc: object, c: Credentials) -> bool:
    text = repr(doc)
    return all(v not in text for v in c.secret_values())


def test_adding_state_constant_is_what_the_rows_carry(vault: Vault) -> None:
    assert vault_mod.ADDING == ADDING == "adding"
