"""Issue #4's "Done when" list, end to end through the CLI against the simulator (``--endpoint`` flags)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from keyhygiene.cli import main
from keyhygiene.sim import SimKey, Simulator, SimulatorThread
from tests.helpers.keyrings import LockedKeyring
from tests.helpers.secrets_watch import find_leaks
from tests.helpers.simkeys import make_key

SIM_IP = "203.0.113.10"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False))
    yield runner.start()
    runner.stop()


def endpoint_args(sim: Simulator) -> list[str]:
    return [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]


def cli(data_dir: Path, sim: Simulator, *argv: str) -> int:
    return main(["--data-dir", str(data_dir), *endpoint_args(sim), *argv])


def add(data_dir: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        key: SimKey, label: str, *flags: str) -> str:
    sim.add_key(key)
    monkeypatch.setenv("KEYHYGIENE_API_KEY", key.api_key)
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", key.secret)
    if key.passphrase:
        monkeypatch.setenv("KEYHYGIENE_API_PASSPHRASE", key.passphrase)
    else:
        monkeypatch.delenv("KEYHYGIENE_API_PASSPHRASE", raising=False)
    rc = cli(data_dir, sim, "keys", "add", "--exchange", key.exchange, "--label", label, "--json", *flags)
    out, err = capsys.readouterr()
    assert rc == 0, err
    return str(json.loads(out)["id"])


def audit_json(data_dir: Path, sim: Simulator, capsys: pytest.CaptureFixture[str], *flags: str
               ) -> tuple[int, dict]:  # type: ignore[type-arg]
    rc = cli(data_dir, sim, "audit", "--json", *flags)
    out, err = capsys.readouterr()
    return rc, json.loads(out)


def severities(row: dict, rule: str) -> list[str]:  # type: ignore[type-arg]
    return [f["severity"] for f in row["findings"] if f["rule"] == rule]


RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def test_done_when(sim, data_dir, memory_keyring, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    old = (NOW - timedelta(days=1400)).date()
    ids = {
        "3commas": add(data_dir, sim, monkeypatch, capsys,
                       make_key("binance", permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                                created_at=datetime(2022, 3, 1, tzinfo=UTC)),
                       "3c bot", "--purpose", "bot", "--shared-with", "3 Commas@2022-06-01"),
        "withdraw": add(data_dir, sim, monkeypatch, capsys,
                        make_key("bybit", permissions={"read", "spot_trade", "withdraw"},
                                 created_at=NOW - timedelta(days=20)),
                        "withdraw", "--purpose", "trading"),
        "link": add(data_dir, sim, monkeypatch, capsys,
                    make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                             third_party_link="Coinmatics", created_at=NOW - timedelta(days=20)),
                    "linked", "--purpose", "bot"),
        "tax": add(data_dir, sim, monkeypatch, capsys,
                   make_key("kucoin", permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                            created_at=NOW - timedelta(days=20)),
                   "tax", "--purpose", "tax", "--shared-with", "koinly"),
        "old": add(data_dir, sim, monkeypatch, capsys,
                   make_key("okx", permissions={"read"}, ip_whitelist=[SIM_IP]),
                   "old", "--purpose", "read-only", "--created", old.isoformat()),
        "tidy": add(data_dir, sim, monkeypatch, capsys,
                    make_key("binance", permissions={"read"}, ip_whitelist=[SIM_IP],
                             created_at=NOW - timedelta(days=10)),
                    "tidy", "--purpose", "read-only"),
    }

    rc, doc = audit_json(data_dir, sim, capsys, "--fail-on", "high")
    assert rc == 1  # findings at or above high exist
    assert doc["schema_version"] == 1 and doc["generated_at"]
    rows = {r["id"]: r for r in doc["keys"]}
    assert set(rows) == set(ids.values())
    for r in rows.values():
        assert r["status"] == "ok", r.get("message")
        assert {"label", "exchange", "id", "findings", "score", "blast_radius", "permissions"} <= set(r)

    # A key shared with 3Commas before the leak is critical (the alias was resolved to the registry id).
    r3 = rows[ids["3commas"]]
    assert severities(r3, "shared_with_leaked_service") == ["critical"]
    assert r3["shared_with"] == ["3commas"]
    # Withdraw without IP restriction is at least high.
    rw = rows[ids["withdraw"]]
    assert max(RANK[s] for s in severities(rw, "no_ip_restriction")) >= RANK["high"]
    # An exchange-reported third-party link is flagged.
    assert severities(rows[ids["link"]], "third_party_link")
    # A tax key that can trade is flagged.
    assert severities(rows[ids["tax"]], "excess_permission") == ["high"]
    # A key past the maximum age is at least medium.
    assert max(RANK[s] for s in severities(rows[ids["old"]], "too_old")) >= RANK["medium"]
    # A read-only, young, unshared key gets no false finding.
    tidy = rows[ids["tidy"]]
    assert all(f["severity"] == "info" for f in tidy["findings"]), tidy["findings"]
    assert tidy["score"] == 100

    # The results are stored with their history.
    rc2, doc2 = audit_json(data_dir, sim, capsys)
    assert rc2 == 0  # no --fail-on: findings alone never fail the run
    assert {r["id"] for r in doc2["keys"]} == set(ids.values())

    # Human output: a table, each key's findings with fixes, the score formula.
    assert cli(data_dir, sim, "audit") == 0
    out = capsys.readouterr().out
    assert "overall score" in out and "Fix:" in out and "Given to 3Commas before its key leak" in out

    # The data dir holds no secret afterwards.
    assert [leak for leak in find_leaks() if str(data_dir) in leak] == []
    secrets = [k.secret for k in sim.keys.values()] + [k.api_key for k in sim.keys.values()]
    for path in data_dir.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not any(s.encode() in blob for s in secrets), path


def test_fail_on_passes_when_nothing_reaches_it(sim, data_dir, memory_keyring, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    add(data_dir, sim, monkeypatch, capsys,
        make_key("binance", permissions={"read"}, ip_whitelist=[SIM_IP], created_at=NOW - timedelta(days=3)),
        "tidy", "--purpose", "tax")
    rc, doc = audit_json(data_dir, sim, capsys, "--fail-on", "low")
    assert rc == 0 and doc["keys"][0]["score"] == 100
    rc, _ = audit_json(data_dir, sim, capsys, "--fail-on", "info")
    assert rc == 0  # not even an info finding on a tidy key


def test_share_and_unshare_resolve_aliases(sim, data_dir, memory_keyring, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    kid = add(data_dir, sim, monkeypatch, capsys, make_key("binance", ip_whitelist=[SIM_IP]), "k")
    assert cli(data_dir, sim, "keys", "share", kid, f"Bits Gap@{date(2025, 1, 2).isoformat()}") == 0
    assert cli(data_dir, sim, "keys", "share", kid, "Some Private Bot") == 0
    assert cli(data_dir, sim, "keys", "unshare", kid, "BITSGAP") == 0
    capsys.readouterr()
    assert cli(data_dir, sim, "keys", "list", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["shared_with"] == ["some private bot"]
    assert [(e["service"], e["shared_at"]) for e in row["exposures"]][0] == ("bitsgap", "2025-01-02")


def test_unusable_keychain_exits_3(sim, data_dir, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        assert cli(data_dir, sim, "audit", "--json") == 3
    finally:
        keyring.set_keyring(previous)
    assert "keychain" in capsys.readouterr().err


def test_bad_fail_on_is_a_usage_error(sim, data_dir, memory_keyring, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        cli(data_dir, sim, "audit", "--fail-on", "severe")
    assert exc.value.code == 2


def test_mexc_can_withdraw_flag_is_no_withdraw_finding(sim, data_dir, memory_keyring, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 2 through the CLI: MEXC answers canWithdraw true (an account flag); nothing was declared."""
    kid = add(data_dir, sim, monkeypatch, capsys,
              make_key("mexc", permissions={"read", "spot_trade", "withdraw"}, created_at=NOW - timedelta(days=3)),
              "mexc bot", "--purpose", "bot")
    rc, doc = audit_json(data_dir, sim, capsys)
    (row,) = [k for k in doc["keys"] if k["id"] == kid]
    assert row["status"] == "ok" and row["permissions"] == ["read"]
    assert row["account_facts"]["canWithdraw"] is True
    assert severities(row, "withdraw_enabled") == [] and severities(row, "permissions_unknown") == ["info"]
    assert cli(data_dir, sim, "audit") == 0
    out = capsys.readouterr().out
    assert "read (rest not said)" in out
