"""The vault: keychain + metadata together, validation, all-or-nothing writes, namespacing, sharing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import Credentials
from keyhygiene.core.timeutil import utcnow
from keyhygiene.paths import app_paths
from keyhygiene.store.database import DatabaseError
from keyhygiene.store.keychain import PENDING, KeychainError, KeychainState
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.repository import Repository
from keyhygiene.store.vault import MAX_LABEL, NotFound, ServiceRef, ValidationError, Vault
from tests.helpers.filesystem import make_unwritable, open_sqlite_read_only
from tests.helpers.keychain_contract import rsa_pem
from tests.helpers.keyrings import CappedKeyring, FlakyWriteKeyring, LockedKeyring, RefusingKeyring

Secret = Callable[..., str]


def creds(secret: Secret, passphrase: bool = False) -> Credentials:
    return Credentials(api_key=secret("K"), secret=secret("S"), passphrase=secret("P", 12) if passphrase else None)


def files_text(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


# ---- add / get / remove ----------------------------------------------------------------------------------
def test_add_stores_the_secret_in_the_keychain_and_only_a_mask_in_the_database(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret, data_dir: Path
) -> None:
    c = creds(secret)
    rec = vault.add_key(" Binance ", "  Main account ", c, purpose="trading",
                        shared_with=[ServiceRef("3Commas", date(2022, 5, 1))],
                        created_at=datetime(2022, 1, 2, tzinfo=UTC))  # created before it was shared
    assert (rec.exchange, rec.label, rec.purpose) == ("binance", "Main account", "trading")
    assert rec.fingerprint == mask_key(c.api_key) == f"{c.api_key[:4]}…{c.api_key[-4:]}"
    assert rec.key_sha256 == key_digest("binance", c.api_key)
    assert rec.shared_with == ["3commas"]
    assert rec.exposures[0].shared_at == date(2022, 5, 1)
    assert vault.credentials(rec.id) == c
    assert set(memory_keyring.entries()) == {(f"KeyHygiene/{vault.secrets.vault_id}/{rec.id}/current", rec.id)}
    vault.close()  # flush WAL into the file before looking at the bytes
    disk = files_text(data_dir)
    assert c.api_key.encode() not in disk and c.secret.encode() not in disk


def test_get_and_list(vault: Vault, secret: Secret) -> None:
    a = vault.add_key("okx", "b", creds(secret, passphrase=True))
    b = vault.add_key("binance", "a", creds(secret))
    assert vault.get_key(a.id) == a
    assert [k.id for k in vault.list_keys()] == [b.id, a.id]
    with pytest.raises(NotFound, match="keys list"):
        vault.get_key("k00000000")


def test_remove_deletes_keychain_entries_of_both_slots_and_the_row(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret
) -> None:
    rec = vault.add_key("binance", "x", creds(secret))
    vault.secrets.put(rec.id, creds(secret), PENDING)
    keep = vault.add_key("binance", "y", creds(secret))
    vault.remove_key(rec.id)
    with pytest.raises(NotFound):
        vault.get_key(rec.id)
    assert [k for k in memory_keyring.entries() if f"/{rec.id}/" in k[0]] == []
    assert vault.credentials(keep.id) is not None
    with pytest.raises(NotFound):
        vault.remove_key(rec.id)


def test_remove_on_a_locked_keychain_keeps_everything(data_dir: Path, secret: Secret) -> None:
    backend = MemoryKeyring()
    with Vault(app_paths(data_dir), backend=backend) as v:
        rec = v.add_key("binance", "x", creds(secret))
    with Vault(app_paths(data_dir), backend=LockedKeyring()) as v, pytest.raises(KeychainError) as info:
        v.remove_key(rec.id)
    assert info.value.status.state is KeychainState.LOCKED
    with Vault(app_paths(data_dir), backend=backend) as v:
        assert v.get_key(rec.id) == rec
        assert v.credentials(rec.id) is not None


def test_remove_a_row_whose_secret_is_already_gone(vault: Vault, secret: Secret) -> None:
    rec = vault.add_key("binance", "x", creds(secret))
    vault.secrets.delete(rec.id)
    vault.remove_key(rec.id)
    assert vault.list_keys() == []


def test_large_credentials_round_trip_through_a_capped_keychain(data_dir: Path, secret: Secret) -> None:
    backend = CappedKeyring()
    pem = rsa_pem()
    c = Credentials(api_key=secret("K"), secret=secret("S"), extra={"privateKey": pem, "uid": "123456789"})
    with Vault(app_paths(data_dir), backend=backend) as v:
        rec = v.add_key("binance", "ed25519 or rsa", c)
        assert v.credentials(rec.id) == c
        assert len(backend.entries()) > 2
        v.remove_key(rec.id)
        assert backend.entries() == {}


# ---- namespacing -----------------------------------------------------------------------------------------
def test_two_data_dirs_never_see_each_others_entries(tmp_path: Path, secret: Secret) -> None:
    from tests.helpers.secrets_watch import watch_dir

    backend = MemoryKeyring()  # one OS keychain shared by two vaults
    watch_dir(tmp_path)
    with Vault(app_paths(tmp_path / "a"), backend=backend) as a, \
            Vault(app_paths(tmp_path / "b"), backend=backend) as b:
        assert a.secrets.vault_id != b.secrets.vault_id
        ca, cb = creds(secret), creds(secret)
        ra, rb = a.add_key("binance", "a", ca), b.add_key("binance", "b", cb)
        assert a.list_keys() == [ra] and b.list_keys() == [rb]
        assert a.credentials(rb.id) is None and b.credentials(ra.id) is None
        # The same key stored in both vaults is no duplicate across vaults.
        b.add_key("binance", "same in b", ca)
        a.remove_key(ra.id)
        assert b.credentials(rb.id) == cb
        assert all(f"/{b.secrets.vault_id}/" in s for s, _ in backend.entries())


# ---- validation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exchange", "label", "purpose", "field", "words"),
    [
        ("notanexchange", "x", "other", "exchange", "Unknown exchange"),
        ("", "x", "other", "exchange", "Unknown exchange"),
        ("binance", "   ", "other", "label", "empty"),
        ("binance", "x" * (MAX_LABEL + 1), "other", "label", "at most 200"),
        ("binance", "x", "hodl", "purpose", "Unknown purpose"),
        # One line of plain text: `keys list` and the app's table show a label on a single row.
        ("binance", "a\nb", "other", "label", "control character \\(U\\+000A\\)"),
        ("binance", "a\tb", "other", "label", "U\\+0009"),
        ("binance", "a\rb", "other", "label", "U\\+000D"),
        ("binance", "a\x1b[31mb", "other", "label", "U\\+001B"),
        ("binance", "a\x7fb", "other", "label", "U\\+007F"),
        ("binance", "safe\u202etxt.exe", "other", "label", "U\\+202E"),  # right-to-left override (Cf)
        ("binance", "a\u2028b", "other", "label", "U\\+2028"),  # Unicode line separator
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_written(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret,
    exchange: str, label: str, purpose: str, field: str, words: str,
) -> None:
    with pytest.raises(ValidationError, match=words) as info:
        vault.add_key(exchange, label, creds(secret), purpose=purpose)
    assert info.value.field == field
    assert vault.list_keys() == [] and memory_keyring.entries() == {}


def test_a_label_of_exactly_200_characters_is_fine(vault: Vault, secret: Secret) -> None:
    assert vault.add_key("binance", "x" * MAX_LABEL, creds(secret)).label == "x" * MAX_LABEL


def test_printable_unicode_labels_and_surrounding_line_breaks_are_fine(vault: Vault, secret: Secret) -> None:
    # Only characters inside the label are refused; around it they are trimmed like spaces.
    assert vault.add_key("binance", "Bot für Bitcoin · ₿ 1\n", creds(secret)).label == "Bot für Bitcoin · ₿ 1"


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda s: Credentials(api_key="", secret=s("S")), "api_key", "API key is empty"),
        (lambda s: Credentials(api_key=" \t ", secret=s("S")), "api_key", "API key is empty"),
        (lambda s: Credentials(api_key=s("K"), secret=""), "secret", "secret is empty"),
        (lambda s: Credentials(api_key=s("K"), secret="   \n"), "secret", "secret is empty"),
        (lambda s: Credentials(api_key=" " + s("K"), secret=s("S")), "api_key", "spaces"),
        (lambda s: Credentials(api_key=s("K"), secret="x" * 8193), "secret", "longer than 8 KB"),
        (lambda s: Credentials(api_key=s("K"), secret=s("S"), extra={"privateKey": "x" * 8193}), "privateKey",
         "longer than 8 KB"),
    ],
    ids=["empty-key", "blank-key", "empty-secret", "blank-secret", "padded-key", "huge-secret", "huge-extra"],
)
def test_bad_credentials_are_refused_without_echoing_them(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret,
    make: Callable[[Secret], Credentials], field: str, words: str,
) -> None:
    c = make(secret)
    with pytest.raises(ValidationError, match=words) as info:
        vault.add_key("binance", "x", c)
    assert info.value.field == field
    for v in c.secret_values():
        if len(v.strip()) >= 6:
            assert v.strip() not in str(info.value)
    assert vault.list_keys() == [] and memory_keyring.entries() == {}


@pytest.mark.parametrize("exchange", ["kucoin", "okx"])
@pytest.mark.parametrize("passphrase", [None, "", "   "])
def test_a_passphrase_exchange_without_a_passphrase_is_refused(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret, exchange: str, passphrase: str | None
) -> None:
    with pytest.raises(ValidationError, match="passphrase") as info:
        vault.add_key(exchange, "x", Credentials(api_key=secret("K"), secret=secret("S"), passphrase=passphrase))
    assert info.value.field == "passphrase"
    assert memory_keyring.entries() == {}


def test_passphrase_exchanges_store_the_passphrase(vault: Vault, secret: Secret) -> None:
    c = creds(secret, passphrase=True)
    rec = vault.add_key("kucoin", "x", c)
    assert vault.credentials(rec.id) == c


def test_a_duplicate_api_key_is_refused_naming_the_existing_key(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret
) -> None:
    c = creds(secret)
    first = vault.add_key("binance", "first", c)
    before = memory_keyring.entries()
    with pytest.raises(ValidationError, match=first.id) as info:
        vault.add_key("BINANCE", "again", Credentials(api_key=c.api_key, secret=secret("S2")))
    assert info.value.field == "api_key"
    assert memory_keyring.entries() == before and len(vault.list_keys()) == 1
    # The same string on another exchange is another key.
    vault.add_key("okx", "other exchange", Credentials(api_key=c.api_key, secret=secret("S3"), passphrase="pass12345"))


@pytest.mark.parametrize(("backend", "state"), [(LockedKeyring(), KeychainState.LOCKED),
                                                (RefusingKeyring(), KeychainState.REFUSED)])
def test_a_locked_or_refused_keychain_stores_nothing(
    data_dir: Path, secret: Secret, backend: MemoryKeyring, state: KeychainState
) -> None:
    with Vault(app_paths(data_dir), backend=backend) as v:
        with pytest.raises(KeychainError) as info:
            v.add_key("binance", "x", creds(secret))
        assert info.value.status.state is state
        assert v.list_keys() == []


# ---- all or nothing --------------------------------------------------------------------------------------
def test_keychain_write_failure_leaves_no_row(data_dir: Path, secret: Secret) -> None:
    with Vault(app_paths(data_dir), backend=FlakyWriteKeyring()) as v:
        with pytest.raises(KeychainError):
            v.add_key("binance", "x", creds(secret))
        assert v.list_keys() == []


def test_database_insert_failure_removes_the_keychain_entry(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Repository, c: sqlite3.Connection, rec: object) -> None:
        c.execute("INSERT INTO settings(name, value) VALUES ('half', 'written')")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Repository, "insert_key", boom)
    with pytest.raises(DatabaseError, match="nothing was changed"):
        vault.add_key("binance", "x", creds(secret))
    assert memory_keyring.entries() == {}
    assert vault.repo.get_setting("half") is None
    assert vault.list_keys() == []


def test_a_chunked_entry_is_removed_too_when_the_insert_fails(
    data_dir: Path, secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = CappedKeyring()
    monkeypatch.setattr(Repository, "insert_key", lambda self, c, rec: (_ for _ in ()).throw(RuntimeError("x")))
    with Vault(app_paths(data_dir), backend=backend) as v, pytest.raises(RuntimeError):
        v.add_key("binance", "x", Credentials(api_key=secret("K"), secret=secret("S", 6000)))
    assert backend.entries() == {}


def test_a_concurrent_duplicate_insert_is_a_validation_error(
    vault: Vault, memory_keyring: MemoryKeyring, secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = creds(secret)
    vault.add_key("binance", "first", c)
    # Another process stored the same key after our duplicate check: the UNIQUE index catches it.
    monkeypatch.setattr(Repository, "find_by_digest", lambda self, digest: None)
    before = memory_keyring.entries()
    with pytest.raises(ValidationError, match="already stored"):
        vault.add_key("binance", "second", c)
    assert memory_keyring.entries() == before


def test_a_read_only_database_stores_nothing(
    data_dir: Path, memory_keyring: MemoryKeyring, secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    Vault(app_paths(data_dir), backend=memory_keyring).close()
    open_sqlite_read_only(monkeypatch)
    with Vault(app_paths(data_dir), backend=memory_keyring) as v:
        with pytest.raises(DatabaseError, match="read-only"):
            v.add_key("binance", "x", creds(secret))
        assert memory_keyring.entries() == {}


def test_a_data_dir_that_cannot_be_created(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseError, match="cannot be used"):
        Vault(app_paths(tmp_path / "file" / "vault"), backend=memory_keyring)


def test_an_unwritable_data_dir(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    with make_unwritable(d), pytest.raises(DatabaseError):
        Vault(app_paths(d), backend=memory_keyring)


# ---- sharing ---------------------------------------------------------------------------------------------
def test_share_and_unshare_record_history(vault: Vault, secret: Secret) -> None:
    rec = vault.add_key("binance", "x", creds(secret))
    rec = vault.share(rec.id, ServiceRef.parse("Koinly@2023-02-01"))
    assert rec.shared_with == ["koinly"]
    with pytest.raises(ValidationError, match="already recorded"):
        vault.share(rec.id, ServiceRef.parse("KOINLY"))
    with pytest.raises(ValidationError, match="before the sharing began"):
        vault.unshare(rec.id, ServiceRef.parse("koinly@2023-01-01"))
    rec = vault.unshare(rec.id, ServiceRef.parse("koinly@2023-06-01"))
    assert rec.shared_with == []
    assert rec.exposures[0].revoked_at == date(2023, 6, 1)
    with pytest.raises(ValidationError, match="not currently shared"):
        vault.unshare(rec.id, ServiceRef.parse("koinly"))
    rec = vault.share(rec.id, ServiceRef.parse("koinly"))  # shared again later: a second exposure
    assert rec.shared_with == ["koinly"] and len(rec.exposures) == 2
    rec = vault.unshare(rec.id, ServiceRef.parse("koinly"))
    assert rec.exposures[1].revoked_at == utcnow().date()
    with pytest.raises(NotFound):
        vault.share("k00000000", ServiceRef.parse("koinly"))


def test_a_service_resolver_turns_aliases_into_ids(data_dir: Path, memory_keyring: MemoryKeyring,
                                                   secret: Secret) -> None:
    aliases = {"three commas": "3commas", "3commas": "3commas"}
    with Vault(app_paths(data_dir), backend=memory_keyring,
               service_resolver=lambda n: aliases.get(n.strip().lower(), n.strip().lower())) as v:
        rec = v.add_key("binance", "x", creds(secret), shared_with=[ServiceRef("Three Commas")])
        assert rec.shared_with == ["3commas"]
        with pytest.raises(ValidationError):
            v.share(rec.id, ServiceRef("3Commas"))


def test_update_key_validates(vault: Vault, secret: Secret) -> None:
    rec = vault.add_key("binance", "x", creds(secret))
    assert vault.update_key(rec.id, label="  new  ", purpose="tax").label == "new"
    with pytest.raises(ValidationError):
        vault.update_key(rec.id, label="")
    with pytest.raises(ValidationError):
        vault.update_key(rec.id, label="y" * 201)
    with pytest.raises(ValidationError):
        vault.update_key(rec.id, purpose="hodl")
    with pytest.raises(ValidationError, match="control character") as info:
        vault.update_key(rec.id, label="a\nb")  # a rename must not bring back what add refuses
    assert info.value.field == "label" and vault.get_key(rec.id).label == "new"
    with pytest.raises(NotFound):
        vault.update_key("k00000000", label="z")


@pytest.mark.parametrize(
    ("text", "service", "day"),
    [
        ("3commas", "3commas", None),
        ("  3Commas @ 2022-05-01 ", "3Commas", date(2022, 5, 1)),
        ("koinly@2023-12-31", "koinly", date(2023, 12, 31)),
        ("my@bot@2021-01-01", "my@bot", date(2021, 1, 1)),
    ],
)
def test_service_ref_parse(text: str, service: str, day: date | None) -> None:
    assert ServiceRef.parse(text) == ServiceRef(service, day)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "No service"),
        ("@2022-01-01", "No service"),
        ("3commas@", "YYYY-MM-DD"),
        ("3commas@2022-13-01", "YYYY-MM-DD"),
        ("3commas@2022-02-30", "YYYY-MM-DD"),
        ("3commas@20220501", "YYYY-MM-DD"),
        ("3commas@yesterday", "YYYY-MM-DD"),
        ("3commas@01/05/2022", "YYYY-MM-DD"),
    ],
)
def test_service_ref_parse_rejects_bad_input(text: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as info:
        ServiceRef.parse(text)
    assert info.value.field == "shared_with"


def test_service_ref_parse_rejects_future_dates() -> None:
    tomorrow = (utcnow() + timedelta(days=1)).date()
    with pytest.raises(ValidationError, match="future"):
        ServiceRef.parse(f"3commas@{tomorrow.isoformat()}")
