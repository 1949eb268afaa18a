"""Keychain states (available / locked / refused / unavailable), their messages, and the size-limit plumbing."""

from __future__ import annotations

import keyring.backend
import keyring.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyring.backends import chainer, fail, null

from keyhygiene.core.models import Credentials
from keyhygiene.store import keychain
from keyhygiene.store.keychain import (
    KeychainError,
    KeychainState,
    SecretStore,
    backend_name,
    blob_limit_bytes,
    how_to_fix,
    is_fail_backend,
)
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.keyrings import (
    BrokenBusKeyring,
    CappedKeyring,
    FlakyWriteKeyring,
    LockedKeyring,
    RefusingKeyring,
)


def creds(secret: object) -> Credentials:
    return Credentials(api_key=secret("K"), secret=secret("S"))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("backend", "state"),
    [
        (MemoryKeyring(), KeychainState.AVAILABLE),
        (LockedKeyring(), KeychainState.LOCKED),
        (RefusingKeyring(), KeychainState.REFUSED),
        (fail.Keyring(), KeychainState.UNAVAILABLE),
        (null.Keyring(), KeychainState.UNAVAILABLE),
        (BrokenBusKeyring(), KeychainState.UNAVAILABLE),
    ],
    ids=["memory", "locked", "refused", "fail", "null", "broken-bus"],
)
def test_status_reports_each_state(backend: keyring.backend.KeyringBackend, state: KeychainState) -> None:
    st_ = SecretStore("v1", backend).status()
    assert st_.state is state
    assert st_.usable is (state is KeychainState.AVAILABLE)
    assert st_.backend == backend_name(backend)
    assert st_.message == how_to_fix(state)
    assert st_.to_json() == {"state": state.value, "backend": st_.backend, "message": st_.message}


def test_an_empty_chainer_is_unavailable() -> None:
    class EmptyChainer(chainer.ChainerBackend):
        backends = []  # type: ignore[assignment]  # what keyring builds when no backend is viable

    empty = EmptyChainer()
    assert empty.backends == []
    assert is_fail_backend(empty)
    assert SecretStore("v1", empty).status().state is KeychainState.UNAVAILABLE
    assert not is_fail_backend(type("Full", (chainer.ChainerBackend,), {"backends": [MemoryKeyring()]})())


def test_the_default_backend_comes_from_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore("v1")
    assert store.backend is memory_keyring
    assert store.status().backend == "In-memory (demo, nothing saved)"


def test_keyring_failing_to_load_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> keyring.backend.KeyringBackend:
        raise RuntimeError("bad keyringrc.cfg")

    monkeypatch.setattr(keychain.keyring, "get_keyring", boom)
    assert SecretStore("v1").status().state is KeychainState.UNAVAILABLE


@pytest.mark.parametrize(
    ("backend", "state"),
    [(LockedKeyring(), KeychainState.LOCKED), (RefusingKeyring(), KeychainState.REFUSED),
     (fail.Keyring(), KeychainState.UNAVAILABLE)],
    ids=["locked", "refused", "fail"],
)
def test_require_raises_with_the_state_and_its_fix(backend: keyring.backend.KeyringBackend,
                                                   state: KeychainState) -> None:
    with pytest.raises(KeychainError) as info:
        SecretStore("v1", backend).require()
    assert info.value.status.state is state
    assert how_to_fix(state) in str(info.value)


@pytest.mark.parametrize("op", ["put", "get", "has", "delete"])
def test_every_operation_on_a_locked_keychain_raises_keychain_error(op: str, secret: object) -> None:
    store = SecretStore("v1", LockedKeyring())
    call = {
        "put": lambda: store.put("k1", creds(secret)),
        "get": lambda: store.get("k1"),
        "has": lambda: store.has("k1"),
        "delete": lambda: store.delete("k1"),
    }[op]
    with pytest.raises(KeychainError) as info:
        call()
    assert info.value.status.state is KeychainState.LOCKED
    assert "unlock" in info.value.status.message


def test_non_keyring_errors_from_the_backend_become_keychain_errors(secret: object) -> None:
    store = SecretStore("v1", BrokenBusKeyring())
    with pytest.raises(KeychainError) as info:
        store.put("k1", creds(secret))
    assert info.value.status.state is KeychainState.UNAVAILABLE
    assert "Connection refused" in str(info.value)


def test_a_refused_write_is_unavailable_not_a_crash(secret: object) -> None:
    with pytest.raises(KeychainError) as info:
        SecretStore("v1", FlakyWriteKeyring()).put("k1", creds(secret))
    assert info.value.status.state is KeychainState.UNAVAILABLE


def test_the_fail_backend_put_writes_nothing_anywhere(secret: object) -> None:
    with pytest.raises(KeychainError):
        SecretStore("v1", fail.Keyring()).put("k1", creds(secret))


@pytest.mark.parametrize(
    ("exc", "state"),
    [
        (keyring.errors.KeyringLocked("Failed to unlock the collection!"), KeychainState.LOCKED),
        (RuntimeError("The collection is locked"), KeychainState.LOCKED),
        (RuntimeError("Prompt dismissed."), KeychainState.REFUSED),
        (RuntimeError("User canceled the operation."), KeychainState.REFUSED),
        (keyring.errors.KeyringLocked("Can't get password from keychain: access denied"), KeychainState.REFUSED),
        (RuntimeError("org.freedesktop.DBus.Error.AccessDenied: denied"), KeychainState.UNAVAILABLE),
        (ConnectionRefusedError("[Errno 111] Connection refused"), KeychainState.UNAVAILABLE),
        (RuntimeError("No such interface"), KeychainState.UNAVAILABLE),
    ],
)
def test_state_of_backend_errors(exc: Exception, state: KeychainState) -> None:
    assert keychain._state_of(exc) is state


def test_keyring_locked_without_a_hint_is_locked() -> None:
    assert keychain._state_of(keyring.errors.KeyringLocked("")) is KeychainState.LOCKED


# ---- messages per OS -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("platform", "locked_words", "missing_words"),
    [
        ("linux", ["Secret Service", "unlock"], ["gnome-keyring", "KWallet", "dbus-run-session"]),
        ("darwin", ["Keychain Access", "unlock"], ["Keychain Access"]),
        ("win32", ["Credential Manager", "sign in"], ["Credential Manager"]),
    ],
)
def test_messages_say_what_to_install_or_unlock_on_each_os(platform: str, locked_words: list[str],
                                                            missing_words: list[str]) -> None:
    locked = how_to_fix(KeychainState.LOCKED, platform)
    refused = how_to_fix(KeychainState.REFUSED, platform)
    missing = how_to_fix(KeychainState.UNAVAILABLE, platform)
    for w in locked_words:
        assert w in locked
    assert "refused" in refused and "refused" not in locked
    for w in missing_words:
        assert w in missing
    assert len({locked, refused, missing}) == 3
    assert how_to_fix(KeychainState.AVAILABLE, platform) == "The keychain is ready."


def test_never_a_plaintext_fallback_in_the_advice() -> None:
    text = how_to_fix(KeychainState.UNAVAILABLE, "linux")
    assert "never in plain files" in text
    assert "keyrings.alt" not in text


# ---- size limits --------------------------------------------------------------------------------------------
def test_blob_limit_from_the_backend_attribute_a_chainer_and_windows() -> None:
    assert blob_limit_bytes(MemoryKeyring()) is None
    assert blob_limit_bytes(CappedKeyring()) == 2560

    class Chain(MemoryKeyring):
        backends = [MemoryKeyring(), CappedKeyring()]

    assert blob_limit_bytes(Chain()) == 2560

    class WinVaultKeyring(MemoryKeyring):  # same class name as keyring's Windows backend
        pass

    assert blob_limit_bytes(WinVaultKeyring()) == 2560


def test_backend_name_lists_the_chain() -> None:
    class Chain(MemoryKeyring):
        backends = [MemoryKeyring(), CappedKeyring()]

    assert backend_name(Chain()) == "In-memory (demo, nothing saved) + Capped test keyring (2560 bytes UTF-16)"


def test_oversized_entries_are_refused_before_touching_the_keychain(secret: object) -> None:
    backend = MemoryKeyring()
    huge = Credentials(api_key=secret("K"), secret="x" * (keychain.MAX_ENTRY_BYTES + 1))
    with pytest.raises(ValueError, match="larger"):
        SecretStore("v1", backend).put("k1", huge)
    assert backend.entries() == {}


@given(st.text(min_size=1, max_size=400), st.integers(min_value=4, max_value=64))
def test_split_utf16_pieces_fit_and_rejoin(text: str, limit: int) -> None:
    pieces = keychain._split_utf16(text, limit)
    assert "".join(pieces) == text
    assert all(p for p in pieces)
    assert all(len(p.encode("utf-16-le")) <= limit for p in pieces)


def test_parse_header_accepts_only_well_formed_headers() -> None:
    digest = "a" * 64
    assert keychain._parse_header(f"chunked:2:abcd1234:3:{digest}") == ("abcd1234", 3, digest)
    for bad in ["chunked:1:3:" + digest, f"chunked:2:ab:0:{digest}", f"chunked:2:ab:x:{digest}",
                "chunked:2:ab:3:short", f"chunked:2:a/b:3:{digest}", '{"api_key": "x"}']:
        assert keychain._parse_header(bad) is None, bad
