"""The keychain contract on in-memory backends: plain, and capped like Windows Credential Manager."""

from __future__ import annotations

import pytest

from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.keychain_contract import KeychainContract, KeychainUnderTest
from tests.helpers.keyrings import CappedKeyring


def _listing(backend: MemoryKeyring):  # type: ignore[no-untyped-def]
    return lambda prefix: {service for service, _user in backend.entries() if service.startswith(prefix)}


class TestMemoryKeychain(KeychainContract):
    @pytest.fixture
    def kc(self) -> KeychainUnderTest:
        backend = MemoryKeyring()
        return KeychainUnderTest(backend=backend, services=_listing(backend))


class TestCappedKeychain(KeychainContract):
    """The backend under test itself enforces the 2,560-byte cap: every large value must go through chunking."""

    @pytest.fixture
    def kc(self) -> KeychainUnderTest:
        backend = CappedKeyring()
        return KeychainUnderTest(backend=backend, services=_listing(backend))
