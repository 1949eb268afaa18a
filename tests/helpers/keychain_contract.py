"""The keychain contract: one suite that every backend must pass, in-memory in unit tests, Secret Service in CI.

A test module subclasses ``KeychainContract`` and provides a ``kc`` fixture returning a ``KeychainUnderTest``.
Chunking and failure tests wrap the backend under test in the proxies from ``tests.helpers.keyrings``, so the
pieces really land in (and are really removed from) the backend under test.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import keyring.backend
import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.store.keychain import (
    CURRENT,
    MAX_SECRET_BYTES,
    PENDING,
    SERVICE_PREFIX,
    KeychainCorrupt,
    KeychainError,
    KeychainState,
    SecretStore,
    blob_limit_bytes,
)
from tests.helpers.keyrings import CappedKeyring, FailingWritesKeyring
from tests.helpers.secrets_watch import register_secret


@dataclass
class KeychainUnderTest:
    backend: keyring.backend.KeyringBackend
    # Every service name (keychain item) whose name starts with the given prefix, read from the backend itself.
    services: Callable[[str], set[str]]


def rsa_pem() -> str:
    """A fresh 2048-bit RSA private key in PEM (about 1,700 characters), registered with the leak check."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    register_secret(pem, *(line for line in pem.splitlines() if not line.startswith("-----")))
    return pem


def make_creds(prefix: str = "C", secret_len: int = 40, passphrase: bool = False, **extra: str) -> Credentials:
    api_key = f"{prefix}K{_secrets.token_hex(12)}"
    secret = f"{prefix}S{_secrets.token_hex(secret_len // 2)}"[:secret_len]
    pw = f"{prefix}P{_secrets.token_hex(6)}" if passphrase else None
    register_secret(api_key, secret, *(v for v in (pw, *extra.values()) if v))
    return Credentials(api_key=api_key, secret=secret, passphrase=pw, extra=dict(extra))


class KeychainContract:
    """Not collected by itself (no ``Test`` prefix); subclasses named ``Test…`` run it."""

    @pytest.fixture
    def kc(self) -> KeychainUnderTest:  # pragma: no cover - always overridden
        raise NotImplementedError

    @pytest.fixture
    def store(self, kc: KeychainUnderTest) -> Iterator[SecretStore]:
        s = SecretStore(f"test-{_secrets.token_hex(6)}", kc.backend)
        yield s
        self._purge(kc, s.vault_id)

    @staticmethod
    def _purge(kc: KeychainUnderTest, vault_id: str) -> None:
        # A failing test must not leave items in a real keychain.
        prefix = f"{SERVICE_PREFIX}/{vault_id}/"
        for service in kc.services(prefix):
            key_id = service[len(prefix) :].split("/", 1)[0]
            try:
                kc.backend.delete_password(service, key_id)
            except keyring.errors.PasswordDeleteError:
                pass

    @staticmethod
    def ns(store: SecretStore) -> str:
        return f"{SERVICE_PREFIX}/{store.vault_id}/"

    def capped(self, kc: KeychainUnderTest, store: SecretStore) -> SecretStore:
        """The same namespace on the same backend, seen through Windows' 2,560-byte cap."""
        return SecretStore(store.vault_id, CappedKeyring(kc.backend))

    # ---- basics -------------------------------------------------------------------------------------------
    def test_status_is_available_and_names_the_backend(self, store: SecretStore) -> None:
        st = store.status()
        assert st.state is KeychainState.AVAILABLE
        assert st.usable
        assert st.backend
        assert store.require() == st

    @pytest.mark.parametrize("slot", [CURRENT, PENDING])
    def test_put_get_round_trip_per_slot(self, store: SecretStore, slot: str) -> None:
        creds = make_creds(passphrase=True, uid="U123456789")
        assert store.get("k1", slot) is None
        assert not store.has("k1", slot)
        store.put("k1", creds, slot)
        assert store.get("k1", slot) == creds
        assert store.has("k1", slot)
        other = PENDING if slot == CURRENT else CURRENT
        assert store.get("k1", other) is None  # slots are independent

    def test_put_replaces_the_previous_value(self, store: SecretStore) -> None:
        store.put("k1", make_creds("A"))
        newer = make_creds("B")
        store.put("k1", newer)
        assert store.get("k1") == newer

    def test_delete_removes_only_that_slot_and_is_idempotent(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        cur, pen = make_creds("A"), make_creds("B")
        store.put("k1", cur, CURRENT)
        store.put("k1", pen, PENDING)
        assert store.delete("k1", PENDING) is True
        assert store.get("k1", PENDING) is None
        assert store.get("k1", CURRENT) == cur
        assert store.delete("k1", PENDING) is False
        assert store.delete("k1", CURRENT) is True
        assert kc.services(self.ns(store)) == set()

    def test_move_promotes_pending_over_current(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        store.put("k1", make_creds("OLD"), CURRENT)
        new = make_creds("NEW")
        store.put("k1", new, PENDING)
        store.move("k1", PENDING, CURRENT)
        assert store.get("k1", CURRENT) == new
        assert store.get("k1", PENDING) is None
        assert kc.services(self.ns(store)) == {f"{self.ns(store)}k1/{CURRENT}"}

    def test_move_without_source_raises_and_keeps_destination(self, store: SecretStore) -> None:
        cur = make_creds()
        store.put("k1", cur, CURRENT)
        with pytest.raises(KeyError):
            store.move("k1", PENDING, CURRENT)
        assert store.get("k1", CURRENT) == cur

    def test_unknown_slot_is_refused(self, store: SecretStore) -> None:
        with pytest.raises(ValueError, match="slot"):
            store.put("k1", make_creds(), "old")
        with pytest.raises(ValueError, match="slot"):
            store.get("k1", "old")

    def test_entries_live_under_the_vault_namespace_only(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        store.put("k1", make_creds())
        assert kc.services(self.ns(store)) == {f"{self.ns(store)}k1/{CURRENT}"}

    def test_two_vaults_never_see_each_others_entries(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        other = SecretStore(f"test-{_secrets.token_hex(6)}", kc.backend)
        try:
            mine, theirs = make_creds("A"), make_creds("B")
            store.put("k1", mine)
            assert other.get("k1") is None
            other.put("k1", theirs)
            assert store.get("k1") == mine
            assert other.get("k1") == theirs
            assert other.delete("k1") is True
            assert store.get("k1") == mine
        finally:
            self._purge(kc, other.vault_id)

    def test_usable_from_worker_threads(self, store: SecretStore) -> None:
        # The GUI calls the keychain from a thread pool; concurrent calls must not mix entries up.
        creds = {f"k{i}": make_creds(f"T{i}") for i in range(6)}
        main_thread = threading.get_ident()

        def work(key_id: str) -> tuple[int, Credentials | None]:
            store.put(key_id, creds[key_id])
            return threading.get_ident(), store.get(key_id)

        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip(creds, pool.map(work, creds), strict=True))
        assert {k: v[1] for k, v in results.items()} == creds
        assert all(tid != main_thread for tid, _ in results.values())

    # ---- sizes and chunking -------------------------------------------------------------------------------
    def test_rsa_pem_private_key_round_trips_under_the_windows_cap(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        pem = rsa_pem()
        assert len(pem) >= 1700
        creds = make_creds(privateKey=pem)
        for s in (store, self.capped(kc, store)):
            s.put("pem", creds)
            assert s.get("pem") == creds
            s.put("pem-as-secret", Credentials(api_key=creds.api_key, secret=pem))
            assert s.get("pem-as-secret") == Credentials(api_key=creds.api_key, secret=pem)

    def test_generated_key_pairs_round_trip_byte_for_byte_as_the_pending_key(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        # A rotation stores the generated private key as the pending secret. It must come back unchanged: ccxt
        # tells Binance Ed25519 from RSA by the PEM's length (<= 120 characters: Ed25519).
        from keyhygiene.core.keypair import generate_keypair

        for pair in (generate_keypair("ed25519"), generate_keypair("rsa", bits=4096)):
            register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
            creds = Credentials(api_key=f"K{_secrets.token_hex(12)}", secret=pair.private_pem)
            register_secret(creds.api_key)
            for s in (store, self.capped(kc, store)):
                s.put(pair.kind, creds, PENDING)
                got = s.get(pair.kind, PENDING)
                assert got is not None and got.secret == pair.private_pem

    def test_8kb_secret_is_split_into_pieces_that_fit(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        capped = self.capped(kc, store)
        big = make_creds(secret_len=MAX_SECRET_BYTES)
        assert len(big.secret.encode()) == MAX_SECRET_BYTES
        capped.put("big", big)
        assert capped.get("big") == big
        assert store.get("big") == big  # an uncapped reader of the same entries sees the same value
        names = kc.services(f"{self.ns(store)}big/")
        assert len(names) > 2  # a header and several pieces
        limit = blob_limit_bytes(capped.backend)
        assert limit == 2560
        for name in names:
            value = kc.backend.get_password(name, "big")
            assert value is not None and len(value.encode("utf-16-le")) <= limit

    def test_multibyte_secret_is_never_split_inside_a_character(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        capped = self.capped(kc, store)
        text = ("é🔑" * 1500)[:2700]  # 2- and 4-byte UTF-16 units straddling every piece boundary
        register_secret(text)
        creds = Credentials(api_key=make_creds().api_key, secret=text)
        capped.put("mb", creds)
        assert capped.get("mb") == creds

    def test_shrinking_a_chunked_value_removes_stale_pieces(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        capped = self.capped(kc, store)
        prefix = f"{self.ns(store)}k1/"
        capped.put("k1", make_creds(secret_len=MAX_SECRET_BYTES))
        many = len(kc.services(prefix))
        mid = make_creds(secret_len=3000)
        capped.put("k1", mid)
        fewer = len(kc.services(prefix))
        assert 2 < fewer < many
        assert capped.get("k1") == mid
        small = make_creds()
        capped.put("k1", small)
        assert kc.services(prefix) == {f"{prefix}{CURRENT}"}
        assert capped.get("k1") == small

    def test_growing_a_plain_value_into_pieces_and_deleting_all(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        capped = self.capped(kc, store)
        capped.put("k1", make_creds())
        big = make_creds(secret_len=6000)
        capped.put("k1", big)
        assert capped.get("k1") == big
        assert capped.delete("k1") is True
        assert kc.services(self.ns(store)) == set()

    def test_a_damaged_piece_is_detected(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        capped = self.capped(kc, store)
        capped.put("k1", make_creds(secret_len=6000))
        pieces = sorted(n for n in kc.services(f"{self.ns(store)}k1/") if "#" in n)
        kc.backend.set_password(pieces[1], "k1", "x" * 100)
        with pytest.raises(KeychainCorrupt, match="checksum"):
            capped.get("k1")

    def test_a_missing_piece_is_detected_and_delete_still_cleans_up(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        capped = self.capped(kc, store)
        capped.put("k1", make_creds(secret_len=6000))
        pieces = sorted(n for n in kc.services(f"{self.ns(store)}k1/") if "#" in n)
        kc.backend.delete_password(pieces[0], "k1")
        with pytest.raises(KeychainCorrupt, match="missing part"):
            capped.get("k1")
        assert capped.delete("k1") is True
        assert kc.services(self.ns(store)) == set()

    @pytest.mark.parametrize("head", ["chunked:2:zz:notanumber:abc", "{not json", '{"api_key": "x"}'])
    def test_an_unreadable_entry_is_reported_as_corrupt(self, kc: KeychainUnderTest, store: SecretStore,
                                                        head: str) -> None:
        kc.backend.set_password(f"{self.ns(store)}k1/{CURRENT}", "k1", head)
        with pytest.raises(KeychainCorrupt) as info:
            store.get("k1")
        assert "k1" in str(info.value)

    def test_a_write_failing_half_way_keeps_the_old_value_and_leaves_no_pieces(
        self, kc: KeychainUnderTest, store: SecretStore
    ) -> None:
        old = make_creds("OLD", secret_len=6000)
        self.capped(kc, store).put("k1", old)
        before = kc.services(self.ns(store))
        failing = FailingWritesKeyring(kc.backend, allow=2)  # two pieces get written, then the keychain dies
        broken = SecretStore(store.vault_id, CappedKeyring(failing))
        with pytest.raises(KeychainError):
            broken.put("k1", make_creds("NEW", secret_len=6000))
        assert kc.services(self.ns(store)) == before
        assert store.get("k1") == old

    def test_a_first_write_that_fails_leaves_nothing(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        broken = SecretStore(store.vault_id, CappedKeyring(FailingWritesKeyring(kc.backend, allow=1)))
        with pytest.raises(KeychainError) as info:
            broken.put("k1", make_creds(secret_len=6000))
        assert info.value.status.state is KeychainState.UNAVAILABLE
        assert kc.services(self.ns(store)) == set()

    def test_errors_never_carry_the_secret(self, kc: KeychainUnderTest, store: SecretStore) -> None:
        creds = make_creds(secret_len=6000)
        broken = SecretStore(store.vault_id, CappedKeyring(FailingWritesKeyring(kc.backend, allow=0)))
        with pytest.raises(KeychainError) as info:
            broken.put("k1", creds)
        for value in creds.secret_values():
            assert value not in str(info.value)
