"""The secret-store contract on the local keychain store (in-memory keyring). The team vault runs the same suite
against a real OpenBao server in tests/integration/team/test_team_secrets.py."""

from __future__ import annotations

import secrets

import pytest

from keyhygiene.store.keychain import SERVICE_PREFIX, SecretStore
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.secret_store_contract import SecretStoreContract, StoresUnderTest


class TestLocalSecretStore(SecretStoreContract):
    @pytest.fixture
    def stores(self) -> StoresUnderTest:
        backend = MemoryKeyring()

        def held(store: SecretStore) -> set[str]:
            prefix = f"{SERVICE_PREFIX}/{store.vault_id}/"
            return {s[len(prefix):].split("/", 1)[0] for s, _u in backend.entries() if s.startswith(prefix)}

        return StoresUnderTest(new=lambda: SecretStore(f"test-{secrets.token_hex(6)}", backend), held=held)
