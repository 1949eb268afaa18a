"""What every secret store promises the layers above, whatever holds the secrets: the OS keychain (through
``SecretStore`` on a keyring backend) or the team vault (``TeamSecretStore`` on KV v2).

The keyring-level suite (keychain_contract.py) also checks how entries are laid out and chunked in a keychain;
this one checks only what callers rely on: slots, replace, delete, promote, isolation, sizes, threads, no secret in
errors. A test module subclasses ``SecretStoreContract`` and provides ``stores``: a factory of fresh, isolated stores
plus a way to list what one of them holds.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.store.keychain import CURRENT, MAX_SECRET_BYTES, PENDING, KeychainState
from tests.helpers.keychain_contract import make_creds, rsa_pem
from tests.helpers.secrets_watch import register_secret


@dataclass
class StoresUnderTest:
    new: Callable[[], Any]  # a fresh store in its own namespace
    held: Callable[[Any], set[str]]  # the key ids a store holds anything for, read from the backend itself


class SecretStoreContract:
    @pytest.fixture
    def stores(self) -> StoresUnderTest:  # pragma: no cover - always overridden
        raise NotImplementedError

    @pytest.fixture
    def store(self, stores: StoresUnderTest) -> Any:
        return stores.new()

    def test_status_is_available_and_require_agrees(self, store: Any) -> None:
        st = store.status()
        assert st.state is KeychainState.AVAILABLE and st.usable and st.backend
        assert store.require() == st

    @pytest.mark.parametrize("slot", [CURRENT, PENDING])
    def test_round_trip_per_slot_and_slots_are_independent(self, store: Any, slot: str) -> None:
        creds = make_creds(passphrase=True, uid="U123456789")
        assert store.get("k1", slot) is None and not store.has("k1", slot)
        store.put("k1", creds, slot)
        assert store.get("k1", slot) == creds and store.has("k1", slot)
        assert store.get("k1", PENDING if slot == CURRENT else CURRENT) is None

    def test_put_replaces(self, store: Any) -> None:
        store.put("k1", make_creds("A"))
        newer = make_creds("B")
        store.put("k1", newer)
        assert store.get("k1") == newer

    def test_delete_one_slot_is_idempotent_and_the_last_leaves_nothing(self, stores: StoresUnderTest,
                                                                       store: Any) -> None:
        cur, pen = make_creds("A"), make_creds("B")
        store.put("k1", cur, CURRENT)
        store.put("k1", pen, PENDING)
        assert store.delete("k1", PENDING) is True
        assert store.get("k1", PENDING) is None and store.get("k1", CURRENT) == cur
        assert store.delete("k1", PENDING) is False
        assert store.delete("k1", CURRENT) is True
        assert stores.held(store) == set()

    def test_promote_by_move_and_by_put_then_delete(self, store: Any) -> None:
        store.put("k1", make_creds("OLD"), CURRENT)
        new = make_creds("NEW")
        store.put("k1", new, PENDING)
        store.move("k1", PENDING, CURRENT)
        assert store.get("k1", CURRENT) == new and store.get("k1", PENDING) is None
        # The rotation machine's way: write the pending value as current, then drop the pending slot.
        newer = make_creds("NEWER")
        store.put("k1", newer, PENDING)
        store.put("k1", newer, CURRENT)
        store.delete("k1", PENDING)
        assert store.get("k1", CURRENT) == newer and store.get("k1", PENDING) is None

    def test_move_without_source_raises_and_keeps_destination(self, store: Any) -> None:
        cur = make_creds()
        store.put("k1", cur, CURRENT)
        with pytest.raises(KeyError):
            store.move("k1", PENDING, CURRENT)
        assert store.get("k1", CURRENT) == cur

    def test_unknown_slot_is_refused(self, store: Any) -> None:
        with pytest.raises(ValueError, match="slot"):
            store.put("k1", make_creds(), "old")
        with pytest.raises(ValueError, match="slot"):
            store.get("k1", "old")

    def test_two_stores_never_see_each_others_entries(self, stores: StoresUnderTest, store: Any) -> None:
        other = stores.new()
        mine, theirs = make_creds("A"), make_creds("B")
        store.put("k1", mine)
        assert other.get("k1") is None
        other.put("k1", theirs)
        assert store.get("k1") == mine and other.get("k1") == theirs
        assert other.delete("k1") is True
        assert store.get("k1") == mine

    def test_usable_from_worker_threads(self, store: Any) -> None:
        creds = {f"k{i}": make_creds(f"T{i}") for i in range(6)}
        main_thread = threading.get_ident()

        def work(key_id: str) -> tuple[int, Credentials | None]:
            store.put(key_id, creds[key_id])
            return threading.get_ident(), store.get(key_id)

        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip(creds, pool.map(work, creds), strict=True))
        assert {k: v[1] for k, v in results.items()} == creds
        assert all(tid != main_thread for tid, _ in results.values())

    def test_large_and_multibyte_secrets_round_trip(self, store: Any) -> None:
        from keyhygiene.core.keypair import generate_keypair

        cases = [make_creds(privateKey=rsa_pem()), make_creds(secret_len=MAX_SECRET_BYTES)]
        text = ("é🔑" * 1500)[:2700]
        register_secret(text)
        cases.append(Credentials(api_key=make_creds().api_key, secret=text))
        pair = generate_keypair("ed25519")
        register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
        cases.append(Credentials(api_key=make_creds().api_key, secret=pair.private_pem))
        for i, c in enumerate(cases):
            store.put(f"big{i}", c, PENDING)
            assert store.get(f"big{i}", PENDING) == c

    def test_an_oversized_entry_is_refused_without_echoing_it(self, store: Any) -> None:
        huge = Credentials(api_key=f"K{_secrets.token_hex(8)}", secret="s" * (20 * MAX_SECRET_BYTES))
        with pytest.raises(ValueError) as info:
            store.put("k1", huge)
        assert huge.secret not in str(info.value) and huge.api_key not in str(info.value)
        assert store.get("k1") is None
