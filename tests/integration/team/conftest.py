"""Fixtures for the team vault: one real OpenBao dev server per session, a fresh KV v2 mount per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.exchanges import catalog
from keyhygiene.paths import app_paths
from keyhygiene.store.team_client import TeamConfig
from keyhygiene.store.team_vault import TeamVault
from tests.helpers.openbao import OpenBaoServer, running_openbao
from tests.helpers.secrets_watch import watch_dir


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    with running_openbao() as server:
        yield server


@pytest.fixture
def team_mount(openbao: OpenBaoServer) -> str:
    return openbao.new_mount()


@pytest.fixture
def team_config(openbao: OpenBaoServer, team_mount: str) -> TeamConfig:
    return TeamConfig(url=openbao.url, mount=team_mount, timeout=5)


@pytest.fixture
def team_vault(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> Iterator[TeamVault]:
    d = tmp_path / "team-data"
    watch_dir(d)
    v = TeamVault(app_paths(d), team_config, openbao.root_token)
    v.catalog = catalog  # as the service opens it (service/backend.py): exchanges checked against ccxt
    try:
        yield v
    finally:
        v.close()
