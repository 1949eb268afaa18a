"""``audit --json`` and ``--fail-on`` from outside, on the real keychain, against the simulator process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import (
    PROFILE_FIELDS,
    SEVERITIES,
    Cli,
    SimProcess,
    check_finding,
    check_profile,
)

pytestmark = pytest.mark.keychain


def add(cli: Cli, catalogue: SimCatalogue, exchange: str, variant: str, label: str, *flags: str) -> str:
    r = cli.run("keys", "add", "--exchange", exchange, "--label", label, "--json", *flags,
                env=catalogue[exchange, variant].env())
    assert r.returncode == 0, r
    return str(r.json()["id"])


def audit(cli: Cli, sim: SimProcess, *flags: str) -> tuple[int, dict[str, Any]]:
    r = cli.run("audit", "--json", *flags, env={"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
    doc = r.json()
    assert isinstance(doc, dict) and "schema_version" in doc, r
    assert isinstance(doc["schema_version"], int)
    for k in doc["keys"]:
        check_profile(k, k["exchange"])
        assert {"id", "label", "findings"} <= set(k)
        for f in k["findings"]:
            check_finding(f)
    return r.returncode, doc


def worst(doc: dict[str, Any]) -> str | None:
    found = {f["severity"] for k in doc["keys"] for f in k["findings"]}
    return next((s for s in SEVERITIES if s in found), None)


def test_empty_vault(keychain: Cli, sim: SimProcess) -> None:
    rc, doc = audit(keychain, sim, "--fail-on", "info")
    assert rc == 0 and doc["keys"] == []


def test_a_leaked_key_fails_on_critical(keychain: Cli, sim: SimProcess, catalogue: SimCatalogue) -> None:
    cli = keychain
    leaked = add(cli, catalogue, "bybit", "sub", "bot via 3commas", "--purpose", "bot",
                 "--shared-with", "3Commas@2022-06-01")
    tidy = add(cli, catalogue, "kraken", "read_only", "tax tool", "--purpose", "read-only")
    rc, doc = audit(cli, sim)
    assert rc == 0  # without --fail-on, findings do not change the exit code
    keys = {k["id"]: k for k in doc["keys"]}
    assert set(keys) == {leaked, tidy}
    assert keys[leaked]["status"] == keys[tidy]["status"] == "ok"
    assert set(PROFILE_FIELDS) <= set(keys[leaked])
    crit = [f for f in keys[leaked]["findings"] if f["severity"] == "critical"]
    assert crit and any("3commas" in (f["rule"] + f["title"]).lower() for f in crit), keys[leaked]["findings"]
    assert all(f["severity"] in ("low", "info") for f in keys[tidy]["findings"]), keys[tidy]["findings"]

    for sev in SEVERITIES:
        rc, _doc = audit(cli, sim, "--fail-on", sev)
        assert rc == 1, f"--fail-on {sev} with a critical finding exited {rc}"
    rc, _doc = audit(cli, sim, "--fail-on", "CRITICAL")
    assert rc == 1

    assert cli.run("keys", "remove", leaked).returncode == 0
    rc, doc = audit(cli, sim, "--fail-on", "medium")
    assert rc == 0 and worst(doc) in (None, "low", "info"), doc
    rc, doc = audit(cli, sim, "--fail-on", "info")
    assert rc == (1 if worst(doc) else 0)


def test_rejected_and_unreachable_keys_are_reported_not_fatal(keychain: Cli, sim: SimProcess,
                                                              catalogue: SimCatalogue) -> None:
    cli = keychain
    gone = add(cli, catalogue, "okx", "revoked", "deleted on okx")
    far = add(cli, catalogue, "gate", "read_only", "gate")
    r = cli.run("audit", "--json", "--endpoint", f"okx={sim.endpoints['okx']}/", "--endpoint",
                "gate=http://127.0.0.1:9")
    assert r.returncode == 0, r
    keys = {k["id"]: k for k in r.json()["keys"]}
    assert keys[gone]["status"] == "invalid_key" and keys[gone]["message"]
    assert keys[far]["status"] == "unreachable" and keys[far]["message"]
    (rejected,) = [f for f in keys[gone]["findings"] if f["rule"] == "key_rejected"]
    r = cli.run("audit", "--fail-on", rejected["severity"], "--endpoint", f"okx={sim.endpoints['okx']}",
                "--endpoint", "gate=http://127.0.0.1:9")
    assert r.returncode == 1, r


def test_endpoints_before_the_subcommand(keychain: Cli, sim: SimProcess, catalogue: SimCatalogue) -> None:
    cli = keychain
    add(cli, catalogue, "binance", "read_only", "b")
    add(cli, catalogue, "htx", "read_only", "h")
    r = cli.run("--endpoint", f"binance={sim.endpoints['binance']}", "audit", "--json",
                "--endpoint", f"htx={sim.endpoints['htx']}")
    assert r.returncode == 0, r
    assert sorted(k["status"] for k in r.json()["keys"]) == ["ok", "ok"], r


def test_human_output(keychain: Cli, sim: SimProcess, catalogue: SimCatalogue) -> None:
    cli = keychain
    key_id = add(cli, catalogue, "mexc", "full", "withdrawer")
    r = cli.run("audit", env={"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
    assert r.returncode == 0, r
    assert key_id in r.stdout and catalogue["mexc", "full"].masked() in r.stdout
