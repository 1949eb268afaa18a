"""A key pair generated here lives only in the keychain: generate -> register the public key -> store -> inspect
-> audit -> report (all four formats), then no file in the data dir, the logs or the reports, and nothing the CLI
printed, holds ``PRIVATE KEY`` or any line of a private key's body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.cli import main
from keyhygiene.core.keypair import KeyPair, generate_keypair
from keyhygiene.logsetup import close_logging
from keyhygiene.sim import Simulator, SimulatorThread
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.secrets_watch import find_pem_leaks, pem_material, register_secret


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False, exchanges=("binance", "bybit")))
    yield runner.start()
    runner.stop()


def cli(data_dir: Path, sim: Simulator, *argv: str) -> int:
    endpoints = [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]
    return main(["--data-dir", str(data_dir), *endpoints, *argv])


def use_key(monkeypatch: pytest.MonkeyPatch, api_key: str, pair: KeyPair) -> None:
    monkeypatch.setenv("KEYHYGIENE_API_KEY", api_key)
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", pair.private_pem)
    monkeypatch.delenv("KEYHYGIENE_API_PASSPHRASE", raising=False)


def test_private_keys_stay_in_the_keychain(sim: Simulator, data_dir: Path, tmp_path: Path,
                                           memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    pairs = {"binance": generate_keypair("ed25519"), "bybit": generate_keypair("rsa")}
    printed: list[str] = []
    api_keys: dict[str, str] = {}
    for exchange, pair in pairs.items():
        register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
        key = sim.register_public_key(exchange, pair.public_pem, permissions=["read"], ip_whitelist=["203.0.113.10"])
        api_keys[exchange] = key.api_key
        register_secret(key.api_key)
        use_key(monkeypatch, key.api_key, pair)
        assert cli(data_dir, sim, "inspect", "--exchange", exchange, "--json") == 0
        out, err = capsys.readouterr()
        printed += [out, err]
        assert json.loads(out)["status"] == "ok"
        assert cli(data_dir, sim, "keys", "add", "--exchange", exchange, "--label", f"{exchange} generated",
                   "--purpose", "read-only", "--json") == 0
        printed += list(capsys.readouterr())

    # A wrong private key for the Binance key: the error path (message, log) must not carry it either.
    wrong = generate_keypair("ed25519")
    register_secret(wrong.private_pem, *wrong.private_pem.splitlines()[1:-1])
    use_key(monkeypatch, api_keys["binance"], wrong)
    assert cli(data_dir, sim, "inspect", "--exchange", "binance", "--json") == 4
    out, err = capsys.readouterr()
    printed += [out, err]
    assert json.loads(out)["status"] == "invalid_signature"
    monkeypatch.delenv("KEYHYGIENE_API_KEY")
    monkeypatch.delenv("KEYHYGIENE_API_SECRET")

    assert cli(data_dir, sim, "audit", "--json") == 0
    out, err = capsys.readouterr()
    printed += [out, err]
    rows = json.loads(out)["keys"]
    assert sorted(r["exchange"] for r in rows) == ["binance", "bybit"]
    assert all(r["status"] == "ok" for r in rows), rows

    reports = tmp_path / "reports"
    reports.mkdir()
    for fmt in ("html", "pdf", "json", "csv"):
        assert cli(data_dir, sim, "report", "--format", fmt, "-o", str(reports / f"report.{fmt}")) == 0, fmt
        printed += list(capsys.readouterr())
    close_logging()

    # The keychain holds each private key, exactly as generated (ccxt tells Ed25519 from RSA by its length).
    stored = "".join(memory_keyring.entries().values())
    for pair in pairs.values():
        assert json.dumps(pair.private_pem)[1:-1] in stored
    # ...and nothing else does.
    log_dir = data_dir / "logs"
    assert log_dir.is_dir() and any(log_dir.iterdir())
    assert {p.suffix for p in reports.iterdir()} == {".html", ".pdf", ".json", ".csv"}
    all_pems = [*(p.private_pem for p in pairs.values()), wrong.private_pem]
    assert find_pem_leaks([data_dir, log_dir, reports], all_pems) == []
    text = "\n".join(printed)
    assert not [n for pem in all_pems for n in pem_material(pem) if n.decode() in text]
