"""Issue 18 item 3: a keychain that does not answer (a SIGSTOPped daemon) never hangs the app."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.store import keychain
from keyhygiene.store.keychain import KeychainError, KeychainState, KeychainTimeout, SecretStore
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.keyrings import StuckKeyring


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[StuckKeyring]:
    monkeypatch.setattr(keychain, "KEYCHAIN_TIMEOUT_S", 0.3)
    backend = StuckKeyring()
    try:
        yield backend
    finally:
        backend.release.set()


def test_status_of_a_stuck_keychain_returns_within_the_deadline(stuck: StuckKeyring) -> None:
    started = time.monotonic()
    st = SecretStore("v", stuck).status()
    assert time.monotonic() - started < 3
    assert st.state is KeychainState.UNAVAILABLE and not st.usable
    assert "did not answer in 0.3 s" in st.message


@pytest.mark.parametrize("op", ["put", "get", "has", "delete"])
def test_every_call_on_a_stuck_keychain_fails_with_keychain_timeout(stuck: StuckKeyring, op: str,
                                                                    secret: object) -> None:
    store = SecretStore("v", stuck)
    creds = Credentials(api_key=secret("K"), secret=secret("S"))  # type: ignore[operator]
    args = {"put": ("k1", creds), "get": ("k1",), "has": ("k1",), "delete": ("k1",)}[op]
    started = time.monotonic()
    with pytest.raises(KeychainTimeout) as info:
        getattr(store, op)(*args)
    assert time.monotonic() - started < 3
    assert isinstance(info.value, KeychainError)
    assert "did not answer in 0.3 s" in str(info.value)


def test_a_stuck_keychain_does_not_keep_the_process_from_exiting() -> None:
    # The worker threads are daemons: a blocked call does not hold interpreter shutdown.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from keyhygiene.store import keychain\n"
        "from tests.helpers.keyrings import StuckKeyring\n"
        "keychain.KEYCHAIN_TIMEOUT_S = 0.2\n"
        "try:\n"
        "    keychain.SecretStore('v', StuckKeyring()).get('k')\n"
        "except keychain.KeychainTimeout:\n"
        "    print('timed out')\n"
    )
    root = Path(__file__).resolve().parents[3]
    p = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "timed out" in p.stdout, p.stderr


def test_a_normal_keychain_is_unaffected(secret: object) -> None:
    store = SecretStore("v", MemoryKeyring())
    creds = Credentials(api_key=secret("K"), secret=secret("S"))  # type: ignore[operator]
    store.put("k1", creds)
    assert store.get("k1") == creds


def test_the_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYHYGIENE_KEYCHAIN_TIMEOUT", "2.5")
    assert keychain.timeout_from_env() == 2.5
    monkeypatch.setenv("KEYHYGIENE_KEYCHAIN_TIMEOUT", "nonsense")
    assert keychain.timeout_from_env() == keychain.DEFAULT_KEYCHAIN_TIMEOUT_S
