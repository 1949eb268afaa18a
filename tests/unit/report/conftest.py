"""Fixtures for the report tests: the fixed golden vault and reports built from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.core.report.model import Report, build_report
from keyhygiene.paths import app_paths
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import Vault
from tests.helpers.keyrings import LockedKeyring
from tests.helpers.secrets_watch import watch_dir
from tests.unit.report import dataset


@pytest.fixture
def golden_vault(data_dir: Path) -> Iterator[Vault]:
    # A locked keychain: building a report must never need a secret, so any keychain access would fail loudly.
    v = Vault(app_paths(data_dir), backend=LockedKeyring())
    dataset.populate(v)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def golden_report(golden_vault: Vault) -> Report:
    return build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW)


@pytest.fixture
def empty_report(tmp_path: Path) -> Iterator[Report]:
    d = tmp_path / "empty"
    watch_dir(d)
    v = Vault(app_paths(d), backend=MemoryKeyring())
    try:
        yield build_report(v, engine=dataset.engine(), now=dataset.NOW)
    finally:
        v.close()
