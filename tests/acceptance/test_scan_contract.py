"""``scan [PATH...] --json [--import]`` from outside: masked keys only, and imported keys usable by audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import Cli, Creds, SimProcess, assert_dir_has_no_secret, check_key_list_item


@pytest.fixture
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the plaintext copies go: outside the test's watched tmp_path, since they hold secrets by design."""
    return tmp_path_factory.mktemp("plaintext")


def plant(root: Path, binance: Creds, bybit: Creds) -> None:
    (root / "freqtrade").mkdir(parents=True)
    (root / "freqtrade" / "config.json").write_text(json.dumps(
        {"exchange": {"name": "binance", "key": binance.api_key, "secret": binance.secret}, "dry_run": True}))
    (root / "bot").mkdir()
    (root / "bot" / ".env").write_text(f"BYBIT_API_KEY={bybit.api_key}\nBYBIT_API_SECRET={bybit.secret}\n")


def test_scan_json_shows_masked_keys(cli: Cli, catalogue: SimCatalogue, plain: Path) -> None:
    binance, bybit = catalogue["binance", "read_only"], catalogue["bybit", "read_only"]
    tree = plain / "tree"
    plant(tree, binance, bybit)
    r = cli.run("scan", str(tree), "--json")
    assert r.returncode == 0, r
    doc = r.json()
    assert isinstance(doc["schema_version"], int)
    found = {f["exchange"]: f for f in doc["found"]}
    assert set(found) == {"binance", "bybit"}
    assert found["binance"]["key"] == binance.masked() and found["bybit"]["key"] == bybit.masked()
    assert all(f["file"].startswith(str(tree)) for f in found.values())
    # Two paths given at once, one a file.
    r = cli.run("scan", str(tree / "bot"), str(tree / "freqtrade" / "config.json"), "--json")
    assert r.returncode == 0 and len(r.json()["found"]) == 2, r


def test_scan_of_a_clean_folder(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "notes.txt").write_text("nothing here")
    r = cli.run("scan", str(tmp_path / "clean"), "--json")
    assert r.returncode == 0 and r.json()["found"] == [], r


@pytest.mark.keychain
def test_scan_import_then_audit(keychain: Cli, catalogue: SimCatalogue, sim: SimProcess, plain: Path) -> None:
    cli = keychain
    binance, bybit = catalogue["binance", "read_only"], catalogue["bybit", "read_only"]
    tree = plain / "tree"
    plant(tree, binance, bybit)
    r = cli.run("scan", str(tree), "--json", "--import")
    assert r.returncode == 0, r
    imported = r.json()["imported"]
    assert sorted(i["exchange"] for i in imported) == ["binance", "bybit"]
    listed = cli.run("keys", "list", "--json").json()
    for k in listed:
        check_key_list_item(k)
    assert sorted(k["key"] for k in listed) == sorted([binance.masked(), bybit.masked()])
    r = cli.run("audit", "--json", env={"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
    keys = r.json()["keys"]
    assert [k["status"] for k in keys] == ["ok", "ok"]
    # The plaintext copies are findings now.
    assert all(any(f["severity"] == "critical" for f in k["findings"]) for k in keys), keys
    # Importing again stores nothing twice.
    r = cli.run("scan", str(tree), "--json", "--import")
    assert r.returncode == 0 and len(cli.run("keys", "list", "--json").json()) == 2, r
    assert_dir_has_no_secret(cli.data_dir)
