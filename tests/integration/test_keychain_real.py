"""The keychain contract and the ``keys`` CLI against the real Secret Service (gnome-keyring in CI).

Skipped when no usable Secret Service is reachable, unless KEYHYGIENE_CI_KEYCHAIN=1 says one must be (then the
tests fail instead). Run locally:

    export XDG_DATA_HOME=$(mktemp -d)
    dbus-run-session -- bash -c 'eval "$(printf %s pw | gnome-keyring-daemon --unlock --components=secrets)";
        KEYHYGIENE_CI_KEYCHAIN=1 pytest tests/integration/test_keychain_real.py -q'
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import keyring.backend
import pytest

from keyhygiene.store.keychain import SERVICE_PREFIX
from tests.helpers.keychain_contract import KeychainContract, KeychainUnderTest

pytestmark = pytest.mark.keychain
Secret = Callable[..., str]


def _unusable(reason: str) -> NoReturn:
    if os.environ.get("KEYHYGIENE_CI_KEYCHAIN") == "1":
        pytest.fail(f"KEYHYGIENE_CI_KEYCHAIN=1 but the Secret Service is not usable: {reason}")
    pytest.skip(f"no usable Secret Service: {reason}")


class SecretServiceItems:
    """Reads the Secret Service directly (not through keyring) to see what the app really stored."""

    def __init__(self) -> None:
        import secretstorage

        self._ss = secretstorage

    def _with_collection(self, fn: Callable[[Any], Any]) -> Any:
        conn = self._ss.dbus_init()
        try:
            return fn(self._ss.get_default_collection(conn))
        finally:
            conn.close()

    def services(self, prefix: str) -> set[str]:
        def read(coll: Any) -> set[str]:
            names = (item.get_attributes().get("service", "") for item in coll.get_all_items())
            return {n for n in names if n.startswith(prefix)}

        return self._with_collection(read)  # type: ignore[no-any-return]

    def secret_of(self, service: str) -> str | None:
        def read(coll: Any) -> str | None:
            items = list(coll.search_items({"service": service}))
            return items[0].get_secret().decode() if items else None

        return self._with_collection(read)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def secret_service() -> Iterator[tuple[keyring.backend.KeyringBackend, SecretServiceItems]]:
    try:
        import secretstorage
        from keyring.backends import SecretService
    except ImportError as exc:
        _unusable(f"secretstorage is not installed ({exc})")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        _unusable("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
    try:
        conn = secretstorage.dbus_init()
    except Exception as exc:
        _unusable(f"cannot connect to D-Bus: {exc}")
    try:
        if not secretstorage.check_service_availability(conn):
            _unusable("no Secret Service provider on the session bus")
        if secretstorage.get_default_collection(conn).is_locked():
            _unusable("the default keyring is locked")
    finally:
        conn.close()
    backend = SecretService.Keyring()
    probe = f"{SERVICE_PREFIX}/probe-{_secrets.token_hex(4)}"
    try:
        backend.set_password(probe, "probe", "probe-value")
        ok = backend.get_password(probe, "probe") == "probe-value"
        backend.delete_password(probe, "probe")
    except Exception as exc:
        _unusable(f"a test entry could not be written and read back: {exc}")
    if not ok:
        _unusable("a test entry did not read back")
    yield backend, SecretServiceItems()


class TestSecretServiceKeychain(KeychainContract):
    """The very same contract the in-memory backends pass (tests/unit/store/test_keychain_contract.py)."""

    @pytest.fixture
    def kc(self, secret_service: tuple[keyring.backend.KeyringBackend, SecretServiceItems]) -> KeychainUnderTest:
        backend, items = secret_service
        return KeychainUnderTest(backend=backend, services=items.services)


# ---- the CLI in a subprocess, keyring choosing the Secret Service by itself ---------------------------------
def _cli(data_dir: Path, *args: str, env: dict[str, str] | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    full_env.pop("PYTHON_KEYRING_BACKEND", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "keyhygiene", "--data-dir", str(data_dir), *args],
        env=full_env, input=stdin if stdin is not None else "", capture_output=True, text=True, timeout=120,
    )


def _vault_id(data_dir: Path) -> str:
    conn = sqlite3.connect(data_dir / "keyhygiene.sqlite3")
    try:
        return str(conn.execute("SELECT value FROM meta WHERE name = 'vault_id'").fetchone()[0])
    finally:
        conn.close()


def _disk(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())


def test_cli_add_list_remove_with_the_secret_service(
    secret_service: tuple[keyring.backend.KeyringBackend, SecretServiceItems], data_dir: Path, secret: Secret
) -> None:
    _backend, items = secret_service
    api_key, api_secret = secret("K"), secret("S")
    p = _cli(data_dir, "keys", "add", "--exchange", "binance", "--label", "real keychain", "--json",
             env={"KEYHYGIENE_API_KEY": api_key, "KEYHYGIENE_API_SECRET": api_secret})
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    service = f"{SERVICE_PREFIX}/{_vault_id(data_dir)}/{rec['id']}/current"
    try:
        stored = items.secret_of(service)
        assert stored is not None, f"no Secret Service item {service}"
        assert json.loads(stored)["api_key"] == api_key and json.loads(stored)["secret"] == api_secret
        # The data dir holds neither the secret nor the full API key.
        disk = _disk(data_dir)
        assert api_key.encode() not in disk and api_secret.encode() not in disk

        p = _cli(data_dir, "keys", "list", "--json")
        assert p.returncode == 0, p.stderr
        listed = json.loads(p.stdout)
        assert [k["id"] for k in listed] == [rec["id"]]
        assert listed[0]["key"] == f"{api_key[:4]}…{api_key[-4:]}"
        assert api_key not in p.stdout

        p = _cli(data_dir, "keys", "remove", rec["id"])
        assert p.returncode == 0, p.stderr
        assert items.secret_of(service) is None
        assert items.services(f"{SERVICE_PREFIX}/{_vault_id(data_dir)}/") == set()
        assert json.loads(_cli(data_dir, "keys", "list", "--json").stdout) == []
    finally:
        TestSecretServiceKeychain._purge(
            KeychainUnderTest(backend=_backend, services=items.services), _vault_id(data_dir)
        )


def test_cli_add_a_passphrase_key_from_piped_stdin(
    secret_service: tuple[keyring.backend.KeyringBackend, SecretServiceItems], data_dir: Path, secret: Secret
) -> None:
    backend, items = secret_service
    api_key, api_secret, passphrase = secret("K"), secret("S"), secret("P", 12)
    p = _cli(data_dir, "keys", "add", "--exchange", "kucoin", "--label", "kc", "--json",
             stdin=f"{api_key}\n{api_secret}\n{passphrase}\n")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    vid = _vault_id(data_dir)
    try:
        stored = json.loads(items.secret_of(f"{SERVICE_PREFIX}/{vid}/{rec['id']}/current") or "{}")
        assert stored.get("passphrase") == passphrase
        assert passphrase.encode() not in _disk(data_dir)
        assert _cli(data_dir, "keys", "remove", rec["id"]).returncode == 0
        assert items.services(f"{SERVICE_PREFIX}/{vid}/") == set()
    finally:
        TestSecretServiceKeychain._purge(KeychainUnderTest(backend=backend, services=items.services), vid)


def test_two_data_dirs_share_the_secret_service_without_touching_each_other(
    secret_service: tuple[keyring.backend.KeyringBackend, SecretServiceItems], tmp_path: Path, secret: Secret
) -> None:
    from tests.helpers.secrets_watch import watch_dir

    backend, items = secret_service
    watch_dir(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    env = {"KEYHYGIENE_API_KEY": secret("K"), "KEYHYGIENE_API_SECRET": secret("S")}
    try:
        for d in (a, b):  # the same key in two vaults: no duplicate across vaults
            p = _cli(d, "keys", "add", "--exchange", "binance", "--label", d.name, env=env)
            assert p.returncode == 0, p.stderr
        key_a = json.loads(_cli(a, "keys", "list", "--json").stdout)[0]["id"]
        assert _cli(a, "keys", "remove", key_a).returncode == 0
        assert items.services(f"{SERVICE_PREFIX}/{_vault_id(a)}/") == set()
        assert len(items.services(f"{SERVICE_PREFIX}/{_vault_id(b)}/")) == 1
        assert len(json.loads(_cli(b, "keys", "list", "--json").stdout)) == 1
    finally:
        for d in (a, b):
            if (d / "keyhygiene.sqlite3").exists():
                TestSecretServiceKeychain._purge(
                    KeychainUnderTest(backend=backend, services=items.services), _vault_id(d)
                )
