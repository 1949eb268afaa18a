"""``keys add|list|remove|share|unshare`` as a script drives them, on the real OS keychain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import Cli, check_key_list_item

pytestmark = pytest.mark.keychain


def listed(cli: Cli) -> list[dict[str, Any]]:
    r = cli.run("keys", "list", "--json")
    assert r.returncode == 0, r
    data = r.json()
    assert isinstance(data, list), r
    for item in data:
        check_key_list_item(item)
    return data


def by_label(cli: Cli, label: str) -> dict[str, Any]:
    return next(k for k in listed(cli) if k["label"] == label)


def test_add_with_every_flag_then_list(keychain: Cli, catalogue: SimCatalogue) -> None:
    cli = keychain
    creds = catalogue["binance", "full"]
    r = cli.run("keys", "add", "--exchange", "Binance", "--label", "main bot", "--purpose", "bot",
                "--shared-with", "3Commas@2022-06-01", "--shared-with", "KOINLY", "--created", "2024-01-02",
                env=creds.env())
    assert r.returncode == 0, r
    (k,) = listed(cli)
    assert k["exchange"] == "binance" and k["label"] == "main bot" and k["purpose"] == "bot"
    assert k["key"] == creds.masked()
    assert k["shared_with"] == ["3commas", "koinly"]
    assert k["created_at"] == "2024-01-02T00:00:00Z"
    assert k["id"] in r.stdout  # the human confirmation names the new id


@pytest.mark.parametrize("purpose", ["read-only", "trading", "bot", "tax", "other"])
def test_every_purpose(purpose: str, keychain: Cli, catalogue: SimCatalogue) -> None:
    r = keychain.run("keys", "add", "--exchange", "kraken", "--label", purpose, "--purpose", purpose,
                     env=catalogue["kraken", "read_only"].env())
    assert r.returncode == 0, r
    assert by_label(keychain, purpose)["purpose"] == purpose


def test_defaults_and_case_insensitive_flags(keychain: Cli, catalogue: SimCatalogue) -> None:
    cli = keychain
    assert cli.run("keys", "add", "--exchange", "gate", "--label", "plain",
                   env=catalogue["gate", "read_only"].env()).returncode == 0
    k = by_label(cli, "plain")
    assert k["purpose"] == "other" and k["shared_with"] == [] and k["created_at"] is None
    r = cli.run("keys", "add", "--exchange", "gate", "--label", "loud", "--purpose", "Read-Only",
                env=catalogue["gate", "full"].env())
    assert r.returncode == 0, r
    assert by_label(cli, "loud")["purpose"] == "read-only"


def test_passphrase_key_from_piped_stdin(keychain: Cli, catalogue: SimCatalogue) -> None:
    creds = catalogue["kucoin", "read_only"]
    r = keychain.run("keys", "add", "--exchange", "kucoin", "--label", "piped", stdin=creds.stdin())
    assert r.returncode == 0, r
    assert by_label(keychain, "piped")["key"] == creds.masked()


def test_coinbase_pem_from_piped_stdin(keychain: Cli, catalogue: SimCatalogue) -> None:
    creds = catalogue["coinbase", "read_only"]
    r = keychain.run("keys", "add", "--exchange", "coinbase", "--label", "cdp", stdin=creds.stdin())
    assert r.returncode == 0, r
    assert by_label(keychain, "cdp")["key"] == creds.masked()


def test_a_passphrase_exchange_without_a_passphrase_is_refused(keychain: Cli, catalogue: SimCatalogue) -> None:
    creds = catalogue["okx", "read_only"]
    r = keychain.run("keys", "add", "--exchange", "okx", "--label", "x",
                     env={"KEYHYGIENE_API_KEY": creds.api_key, "KEYHYGIENE_API_SECRET": creds.secret})
    assert r.returncode == 2 and "passphrase" in r.stderr.lower(), r
    assert listed(keychain) == []


def test_the_same_key_twice_is_refused(keychain: Cli, catalogue: SimCatalogue) -> None:
    env = catalogue["bybit", "read_only"].env()
    assert keychain.run("keys", "add", "--exchange", "bybit", "--label", "a", env=env).returncode == 0
    r = keychain.run("keys", "add", "--exchange", "bybit", "--label", "b", env=env)
    assert r.returncode == 2, r
    assert [k["label"] for k in listed(keychain)] == ["a"]


def test_share_unshare_and_remove(keychain: Cli, catalogue: SimCatalogue) -> None:
    cli = keychain
    assert cli.run("keys", "add", "--exchange", "okx", "--label", "shared", "--shared-with", "3commas@2022-06-01",
                   env=catalogue["okx", "read_only"].env()).returncode == 0
    key_id = by_label(cli, "shared")["id"]

    r = cli.run("keys", "share", key_id, "CryptoHopper@2023-01-01")
    assert r.returncode == 0, r
    r = cli.run("keys", "share", key_id, "Koinly")
    assert r.returncode == 0, r
    assert by_label(cli, "shared")["shared_with"] == ["3commas", "cryptohopper", "koinly"]
    assert cli.run("keys", "share", key_id, "KOINLY").returncode == 2  # already shared: case-insensitive

    r = cli.run("keys", "unshare", key_id, "3Commas@2022-12-28")
    assert r.returncode == 0, r
    r = cli.run("keys", "unshare", key_id, "koinly")
    assert r.returncode == 0, r
    assert by_label(cli, "shared")["shared_with"] == ["cryptohopper"]
    assert cli.run("keys", "unshare", key_id, "koinly").returncode == 2  # no longer shared

    for bad in ("3commas@2022-13-01", "3commas@2999-01-01"):
        assert cli.run("keys", "share", key_id, bad).returncode == 2

    r = cli.run("keys", "remove", key_id)
    assert r.returncode == 0, r
    assert listed(cli) == []
    assert cli.run("keys", "remove", key_id).returncode == 2
    assert cli.run("keys", "share", key_id, "koinly").returncode == 2


def test_global_flags_after_the_action(keychain: Cli, catalogue: SimCatalogue, tmp_path: Path) -> None:
    other = tmp_path / "other-vault"
    r = keychain.run("keys", "add", "--exchange", "mexc", "--label", "elsewhere", "--data-dir", str(other),
                     env=catalogue["mexc", "read_only"].env())
    assert r.returncode == 0, r
    try:
        assert listed(keychain) == []  # KEYHYGIENE_DATA_DIR's vault is untouched: --data-dir wins
        r = keychain.run("keys", "list", "--json", "--data-dir", str(other))
        assert [k["label"] for k in r.json()] == ["elsewhere"]
        r = keychain.run("--data-dir", str(other), "keys", "list", "--json", data_dir_env=False)
        assert [k["label"] for k in r.json()] == ["elsewhere"]
    finally:
        from tests.acceptance.conftest import _purge_vault

        _purge_vault(other)


def test_remove_without_a_keychain_keeps_the_key(keychain: Cli, catalogue: SimCatalogue) -> None:
    # The secret cannot be deleted, so the vault must keep the key's record (else the secret is orphaned).
    assert keychain.run("keys", "add", "--exchange", "bitget", "--label", "kept",
                        env=catalogue["bitget", "read_only"].env()).returncode == 0
    key_id = by_label(keychain, "kept")["id"]
    r = keychain.run("keys", "remove", key_id, env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 3, r
    assert by_label(keychain, "kept")["id"] == key_id
    assert keychain.run("keys", "remove", key_id).returncode == 0
