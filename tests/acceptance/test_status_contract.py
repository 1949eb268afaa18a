"""``status [--json] [--fail-on]`` from outside: DESIGN.md's object, in agreement with ``audit --json``, no exchange
call, exit codes as ``audit``'s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import SEVERITIES, Cli, SimProcess
from tests.acceptance.test_audit_contract import add, audit

pytestmark = pytest.mark.keychain

FIELDS = {"schema_version", "score", "keys", "needs_attention", "findings", "reminders"}


def status(cli: Cli, *flags: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    r = cli.run("status", "--json", *flags, env=env)
    doc = r.json()
    assert isinstance(doc, dict) and set(doc) >= FIELDS, r
    assert isinstance(doc["schema_version"], int)
    assert isinstance(doc["score"], int) and 0 <= doc["score"] <= 100
    assert set(doc["findings"]) == set(SEVERITIES) and all(isinstance(n, int) for n in doc["findings"].values())
    for rem in doc["reminders"]:
        assert set(rem) >= {"key_id", "rule", "severity", "text"} and rem["severity"] in SEVERITIES
    return r.returncode, doc


def test_empty_vault(cli: Cli) -> None:
    rc, doc = status(cli, "--fail-on", "info")
    assert rc == 0 and doc["keys"] == 0 and doc["needs_attention"] == 0 and doc["reminders"] == []


def test_status_agrees_with_the_audit(keychain: Cli, sim: SimProcess, catalogue: SimCatalogue) -> None:
    cli = keychain
    leaked = add(cli, catalogue, "bybit", "sub", "bot via 3commas", "--purpose", "bot",
                 "--shared-with", "3Commas@2022-06-01")
    add(cli, catalogue, "kraken", "read_only", "tax tool", "--purpose", "read-only")
    _rc, doc = audit(cli, sim)
    # Every exchange pointed at a closed port: status answers from the stored results only.
    dead = ",".join(f"{k['exchange']}=http://127.0.0.1:9" for k in doc["keys"])
    rc, st = status(cli, env={"KEYHYGIENE_ENDPOINTS": dead})
    assert rc == 0 and st["keys"] == 2 and st["score"] == doc["score"]
    counts = {s: sum(1 for k in doc["keys"] for f in k["findings"] if f["severity"] == s) for s in SEVERITIES}
    assert st["findings"] == counts and st["needs_attention"] == 1
    findings = {k["id"]: k["findings"] for k in doc["keys"]}
    assert any(r["key_id"] == leaked and r["severity"] == "critical" for r in st["reminders"]), st["reminders"]
    for r in st["reminders"]:
        assert any(f["rule"] == r["rule"] and f["severity"] == r["severity"] for f in findings[r["key_id"]]), r
    for sev in SEVERITIES:
        rc, _ = status(cli, "--fail-on", sev)
        assert rc == 1, sev  # a critical finding is at or above every severity
    human = cli.run("status")
    assert human.returncode == 0 and human.stdout.startswith("1 of 2 keys need attention"), human
    assert cli.run("status", "--fail-on", "nonsense").returncode == 2
