"""``keyhygiene inspect`` end to end: real ccxt to the simulator, DESIGN.md's JSON object and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from keyhygiene.cli import main
from keyhygiene.core.permissions import DECLARED_BEYOND_READ
from keyhygiene.sim import Simulator, SimulatorThread
from tests.helpers.simkeys import make_key
from tests.integration.exchanges.conftest import simulated_exchanges

CONTRACT_FIELDS = {"exchange", "key", "status", "permissions", "other", "ip_restricted", "ip_whitelist",
                   "created_at", "expires_at", "trade_expires_at", "is_master", "third_party_link", "last_used_at"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False))
    yield runner.start()
    runner.stop()


def env_for(monkeypatch: pytest.MonkeyPatch, key) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEYHYGIENE_API_KEY", key.api_key)
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", key.secret)
    if key.passphrase:
        monkeypatch.setenv("KEYHYGIENE_API_PASSPHRASE", key.passphrase)
    else:
        monkeypatch.delenv("KEYHYGIENE_API_PASSPHRASE", raising=False)


def endpoint_args(sim: Simulator) -> list[str]:
    return [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]


@pytest.mark.parametrize("exchange", simulated_exchanges())
def test_inspect_json_ok(sim, exchange, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange, permissions={"read", "spot_trade", "withdraw"}))
    env_for(monkeypatch, key)
    rc = main(["inspect", "--exchange", exchange, "--json", *endpoint_args(sim)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    data = json.loads(out)
    assert CONTRACT_FIELDS <= set(data)
    assert data["status"] == "ok" and data["exchange"] == exchange
    assert data["permissions"] == sorted(data["permissions"])
    if exchange in DECLARED_BEYOND_READ:  # MEXC: withdraw is an account flag there, never the key's permission
        assert data["permissions"] == ["read"] and data["account_facts"]["canWithdraw"] is True
    else:
        assert "withdraw" in data["permissions"]
    assert "…" in data["key"]
    for s in (key.api_key, key.secret):
        assert s not in out and s not in err


@pytest.mark.parametrize("exchange", simulated_exchanges())
def test_inspect_rejected_key_exits_4_with_message(sim, exchange, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    key = make_key(exchange)  # unknown to the simulator
    env_for(monkeypatch, key)
    rc = main(["inspect", "--exchange", exchange, "--json", *endpoint_args(sim)])
    out, _err = capsys.readouterr()
    data = json.loads(out)
    assert rc == 4
    assert data["status"] in ("invalid_key", "rejected") and data["message"]
    assert data["permissions"] == []


def test_inspect_human_output(sim, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key("bybit", permissions={"read", "futures_trade"}, ip_whitelist=["203.0.113.10"]))
    env_for(monkeypatch, key)
    assert main(["inspect", "--exchange", "bybit", *endpoint_args(sim)]) == 0
    out = capsys.readouterr().out
    assert "futures_trade" in out and "203.0.113.10" in out and key.api_key not in out


def test_unknown_exchange_is_usage_error(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEYHYGIENE_API_KEY", "abcdefghijkl")
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", "abcdefghijkl")
    assert main(["inspect", "--exchange", "nosuchexchange"]) == 2
    assert "Unknown exchange" in capsys.readouterr().err


def test_bad_endpoint_flag_is_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["inspect", "--exchange", "binance", "--endpoint", "binance"]) == 2


def test_unreachable_exits_4(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    key = make_key("binance")
    env_for(monkeypatch, key)
    rc = main(["inspect", "--exchange", "binance", "--json", "--endpoint", "binance=http://127.0.0.1:9"])
    assert rc == 4
    assert json.loads(capsys.readouterr().out)["status"] == "unreachable"


def test_endpoints_from_environment_in_a_real_process(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key("binance"))
    env = dict(os.environ, KEYHYGIENE_API_KEY=key.api_key, KEYHYGIENE_API_SECRET=key.secret,
               KEYHYGIENE_ENDPOINTS=",".join(f"{e}={u}" for e, u in sim.endpoints.items()))
    proc = subprocess.run([sys.executable, "-m", "keyhygiene", "inspect", "--exchange", "binance", "--json"],
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"
    assert key.secret not in proc.stdout + proc.stderr


# ---- inspect checks credentials as `keys add` does, before any request ---------------------------------------
@pytest.mark.parametrize("case", ["okx_without_passphrase", "key_with_trailing_space"])
def test_inspect_refuses_the_credentials_keys_add_refuses(case, sim, monkeypatch, capsys, tmp_path,  # type: ignore[no-untyped-def]
                                                          memory_keyring) -> None:
    import io

    import keyhygiene.exchanges.inspect as inspect_module

    exchange = "okx" if case == "okx_without_passphrase" else "binance"
    key = sim.add_key(make_key(exchange))
    env_for(monkeypatch, key)
    if case == "okx_without_passphrase":
        monkeypatch.delenv("KEYHYGIENE_API_PASSPHRASE", raising=False)
    else:
        monkeypatch.setenv("KEYHYGIENE_API_KEY", key.api_key + " ")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # as with </dev/null: nothing to prompt for

    def no_request(*_a, **_kw):  # type: ignore[no-untyped-def]
        raise AssertionError("inspect sent a request for credentials keys add refuses")

    monkeypatch.setattr(inspect_module, "inspect_key", no_request)
    rc_inspect = main(["--data-dir", str(tmp_path), "inspect", "--exchange", exchange, "--json",
                       *endpoint_args(sim)])
    out_inspect, err_inspect = capsys.readouterr()
    rc_add = main(["--data-dir", str(tmp_path), "keys", "add", "--exchange", exchange, "--label", "x",
                   *endpoint_args(sim)])
    _out_add, err_add = capsys.readouterr()
    assert rc_add == 2, err_add
    assert (rc_inspect, out_inspect, err_inspect) == (2, "", err_add)
    expected = "keys have a passphrase" if case == "okx_without_passphrase" else "spaces or line breaks"
    assert expected in err_inspect
    assert key.api_key not in err_inspect and key.secret not in err_inspect
