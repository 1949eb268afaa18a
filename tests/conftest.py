"""Shared fixtures. Qt runs offscreen; keyring is an in-memory backend unless a test asks for the real one."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("KEYHYGIENE_DATA_DIR", None)
os.environ.pop("KEYHYGIENE_ENDPOINTS", None)

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import keyring  # noqa: E402
import pytest  # noqa: E402

from keyhygiene.core import redact  # noqa: E402
from keyhygiene.core.discovery import exchange_names  # noqa: E402
from keyhygiene.exchanges import catalog  # noqa: E402
from keyhygiene.paths import app_paths  # noqa: E402
from keyhygiene.store.memory_keyring import MemoryKeyring  # noqa: E402
from keyhygiene.store.vault import Vault  # noqa: E402
from tests.helpers.secrets_watch import find_leaks, register_secret, watch_dir  # noqa: E402

# What service.App does when it starts, for tests that drive discovery without one.
exchange_names.use_exchange_ids(catalog.all_exchange_ids)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # qutebrowser's trick: anything that touches Qt is a gui test, so `-m "not gui"` runs pure logic only.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures or "gui" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    watch_dir(d)
    return d


@pytest.fixture
def vault(data_dir: Path, memory_keyring: MemoryKeyring) -> Iterator[Vault]:
    # As the service opens it (service.app.open_local_vault): exchanges checked against ccxt's catalog.
    v = Vault(app_paths(data_dir), backend=memory_keyring, catalog=catalog)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def secret() -> object:
    """Call ``secret("name")`` to make a unique test secret that the leak check will look for."""
    import secrets as _s

    def make(prefix: str = "S", n: int = 24) -> str:
        value = f"{prefix}{_s.token_hex(n // 2)}"
        register_secret(value)
        return value

    return make


@pytest.fixture(autouse=True)
def _forget_redactions() -> Iterator[None]:
    yield
    redact.forget_all()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = find_leaks()
    if leaks:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(  # type: ignore[union-attr]
            "SECRET LEAK CHECK FAILED:\n  " + "\n  ".join(leaks[:20]), red=True
        )
        session.exitstatus = 1
