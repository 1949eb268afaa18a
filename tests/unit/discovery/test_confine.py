"""Issue 20: in the demo (a vault whose paths carry a sandbox), import and clean-up refuse every file outside the
demo's folder, in the core, whoever calls them; inside it they work as usual."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.core.discovery import CleanupError, clean_file, import_found, plan_cleanup, scan
from keyhygiene.core.discovery.confine import DEMO_REFUSAL, may_write
from keyhygiene.core.discovery.importer import IMPORTED, SKIPPED
from keyhygiene.paths import app_paths
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import Vault


def _config(path: Path, key: str, secret: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exchange": {"name": "binance", "key": key, "secret": secret}}))
    return path


@pytest.fixture
def demo_vault(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Vault]:
    sandbox = tmp_path / "demo"
    v = Vault(dataclasses.replace(app_paths(sandbox / "data"), sandbox=sandbox), backend=memory_keyring)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def users_file(tmp_path: Path, secret) -> Path:  # type: ignore[no-untyped-def]
    return _config(tmp_path / "home" / "ft" / "user_data" / "config.json", secret("K"), secret("S"))


def test_import_refuses_a_users_file(demo_vault: Vault, users_file: Path) -> None:
    outcomes = import_found(demo_vault, scan([users_file]).found)
    assert [o.action for o in outcomes] == [SKIPPED]
    assert outcomes[0].message == DEMO_REFUSAL and outcomes[0].key_id is None
    assert demo_vault.list_keys() == []


def test_cleanup_refuses_a_users_file_and_leaves_it_as_it_was(demo_vault: Vault, users_file: Path,
                                                              tmp_path: Path) -> None:
    before = users_file.read_bytes()
    with pytest.raises(CleanupError, match="The demo only reads your files"):
        plan_cleanup(users_file, vault=demo_vault)
    # A plan made without the demo's vault is still refused when the demo's vault carries it out.
    plan = plan_cleanup(users_file, allow_unstored=True)
    with pytest.raises(CleanupError, match="The demo only reads your files"):
        clean_file(plan, demo_vault.paths.backups_dir, confirm=lambda _p: True, vault=demo_vault)
    assert users_file.read_bytes() == before
    assert not demo_vault.paths.backups_dir.exists()


def test_the_demos_own_files_import_and_clean(demo_vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    sample = _config(demo_vault.paths.sandbox / "samples" / "bot" / "config.json",  # type: ignore[operator]
                     secret("K"), secret("S"))
    outcomes = import_found(demo_vault, scan([sample]).found)
    assert [o.action for o in outcomes] == [IMPORTED]
    plan = plan_cleanup(sample, vault=demo_vault)
    result = clean_file(plan, demo_vault.paths.backups_dir, confirm=lambda _p: True, vault=demo_vault)
    assert Path(result.backup).is_relative_to(demo_vault.paths.sandbox)  # type: ignore[arg-type]
    assert '"secret": ""' in sample.read_text()


def test_a_backup_outside_the_sandbox_is_refused(demo_vault: Vault, tmp_path: Path, secret) -> None:  # type: ignore[no-untyped-def]
    sample = _config(demo_vault.paths.sandbox / "samples" / "config.json",  # type: ignore[operator]
                     secret("K"), secret("S"))
    plan = plan_cleanup(sample, allow_unstored=True)
    with pytest.raises(CleanupError, match="The demo only reads your files"):
        clean_file(plan, tmp_path / "elsewhere", confirm=lambda _p: True, vault=demo_vault)


def test_a_symlink_inside_the_sandbox_to_a_users_file_is_the_users_file(demo_vault: Vault, users_file: Path) -> None:
    link = demo_vault.paths.sandbox / "samples" / "config.json"  # type: ignore[operator]
    link.parent.mkdir(parents=True)
    link.symlink_to(users_file)
    assert not may_write(link, demo_vault)


def test_the_users_own_vault_is_not_confined(vault: Vault, users_file: Path) -> None:
    assert vault.paths.sandbox is None and may_write(users_file, vault)
