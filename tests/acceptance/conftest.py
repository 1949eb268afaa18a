"""Fixtures for the outside-in checks: a simulator process, the CLI as a subprocess, the real keychain.

Run the keychain tests inside a throwaway Secret Service:

    export XDG_DATA_HOME=$(mktemp -d)
    dbus-run-session -- bash -c 'eval "$(printf %s pw | gnome-keyring-daemon --unlock --components=secrets)";
        KEYHYGIENE_CI_KEYCHAIN=1 /work/venv/bin/pytest tests/acceptance -q'
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.acceptance.harness import (
    SIM_CLIENT_IP,
    TWELVE,
    Cli,
    Creds,
    SimKeySpec,
    SimProcess,
    assert_dir_has_no_secret,
    fresh_creds,
)
from tests.helpers.secrets_watch import watch_dir

# What the simulated exchanges know, per exchange: variant name -> SimKey settings.
VARIANTS: dict[str, dict[str, object]] = {
    "full": {
        "permissions": ["read", "spot_trade", "futures_trade", "withdraw", "transfer"],
        "ip_whitelist": [SIM_CLIENT_IP, "198.51.100.1"],
        "created_at": "2024-01-02T03:04:05Z", "expires_at": "2027-06-30T00:00:00Z",
        "trade_expires_at": "2027-05-01T00:00:00Z", "is_master": True, "third_party_link": "3Commas",
    },
    "sub": {"permissions": ["read"], "is_master": False},
    # Made a few days ago, so no age rule fires whenever the tests run.
    "read_only": {"permissions": ["read"], "ip_whitelist": [SIM_CLIENT_IP],
                  "created_at": (datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    "wrong_ip": {"permissions": ["read"], "ip_whitelist": ["198.51.100.7"]},
    "no_read": {"permissions": ["spot_trade"]},
    "revoked": {"permissions": ["read"], "revoked": True},
}


class SimCatalogue:
    """Keys the session's simulator knows: ``cat[exchange, variant] -> Creds``."""

    def __init__(self) -> None:
        self.creds: dict[tuple[str, str], Creds] = {}
        self.specs: list[SimKeySpec] = []
        for ex in TWELVE:
            for variant, settings in VARIANTS.items():
                c = fresh_creds(ex)
                self.creds[ex, variant] = c
                self.specs.append(SimKeySpec(c, dict(settings)))

    def __getitem__(self, item: tuple[str, str]) -> Creds:
        return self.creds[item]


@pytest.fixture(scope="session")
def catalogue() -> SimCatalogue:
    return SimCatalogue()


@pytest.fixture(scope="session")
def sim_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim")


@pytest.fixture(scope="session")
def sim(catalogue: SimCatalogue, sim_workdir: Path) -> Iterator[SimProcess]:
    proc = SimProcess(catalogue.specs, sim_workdir)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def start_sim(sim_workdir: Path) -> Iterator[Callable[..., SimProcess]]:
    """Start extra simulator processes (a fault, or keys that change between runs); all stopped at the end."""
    started: list[SimProcess] = []

    def start(keys: list[SimKeySpec], **kw: object) -> SimProcess:
        p = SimProcess(keys, sim_workdir, **kw)  # type: ignore[arg-type]
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    data = tmp_path / "data"
    watch_dir(tmp_path)
    c = Cli(data)
    yield c
    assert_dir_has_no_secret(tmp_path)


# ---- the real keychain ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _keychain_usable(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """None when the keychain keyring picks by itself is usable, else why not (asked the way a script would)."""
    probe = Cli(tmp_path_factory.mktemp("doctor") / "data")
    r = probe.run("doctor", "--json", "--require-keychain")
    if r.returncode == 0:
        return None
    try:
        kc = json.loads(r.stdout).get("keychain", {})
        return f"{kc.get('state')} ({kc.get('backend')}): {kc.get('message')}"
    except ValueError:
        return r.stderr.strip() or f"doctor exited {r.returncode}"


@pytest.fixture
def keychain(_keychain_usable: str | None, cli: Cli) -> Iterator[Cli]:
    """The ``cli`` fixture, on the OS keychain; items the test's vault left behind are purged afterwards."""
    if _keychain_usable is not None:
        if os.environ.get("KEYHYGIENE_CI_KEYCHAIN") == "1":
            pytest.fail(f"KEYHYGIENE_CI_KEYCHAIN=1 but the keychain is not usable: {_keychain_usable}")
        pytest.skip(f"no usable keychain: {_keychain_usable}")
    yield cli
    _purge_vault(cli.data_dir)


def _purge_vault(data_dir: Path) -> None:
    """Delete what this vault stored in the Secret Service (a failing test must not leave keys behind)."""
    import sqlite3

    db = data_dir / "keyhygiene.sqlite3"
    if not db.exists():
        return
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = 'vault_id'").fetchone()
    finally:
        conn.close()
    if not row:
        return
    try:
        import secretstorage

        from keyhygiene.store.keychain import SERVICE_PREFIX
    except ImportError:
        return
    prefix = f"{SERVICE_PREFIX}/{row[0]}/"
    conn = secretstorage.dbus_init()
    try:
        coll = secretstorage.get_default_collection(conn)
        for item in coll.get_all_items():
            if item.get_attributes().get("service", "").startswith(prefix):
                item.delete()
    finally:
        conn.close()

