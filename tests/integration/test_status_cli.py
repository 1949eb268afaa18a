"""``keyhygiene status``: the window's summary from stored results, in agreement with ``audit --json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest

from keyhygiene.cli import main
from keyhygiene.core.severity import SEVERITIES
from keyhygiene.sim import Simulator, SimulatorThread
from tests.helpers.keyrings import LockedKeyring
from tests.helpers.simkeys import make_key
from tests.integration.test_audit_cli import SIM_IP, add, audit_json, cli

NOW = datetime.now(UTC)
FIELDS = {"schema_version", "score", "keys", "needs_attention", "findings", "reminders"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False))
    yield runner.start()
    runner.stop()


def status(data_dir: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    # No --endpoint, and an unreachable one for every exchange: status must not ask any exchange.
    rc = main(["--data-dir", str(data_dir), "--endpoint", "binance=http://127.0.0.1:9", "status", "--json", *flags])
    out, _err = capsys.readouterr()
    return rc, json.loads(out)


def test_status_is_the_audits_summary(sim, data_dir, memory_keyring, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    rc, empty = status(data_dir, capsys, "--fail-on", "info")
    assert rc == 0 and set(empty) == FIELDS and empty["keys"] == 0 and empty["score"] == 100
    assert empty["findings"] == dict.fromkeys(SEVERITIES, 0) and empty["reminders"] == []

    add(data_dir, sim, monkeypatch, capsys,
        make_key("binance", permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                 created_at=datetime(2021, 3, 1, tzinfo=UTC)),
        "3c bot", "--purpose", "bot", "--shared-with", "3commas")  # date unknown: "may have been in the leak"
    add(data_dir, sim, monkeypatch, capsys,
        make_key("okx", permissions={"read"}, ip_whitelist=[SIM_IP]),
        "old", "--purpose", "read-only", "--created", (NOW - timedelta(days=400)).date().isoformat())
    add(data_dir, sim, monkeypatch, capsys,
        make_key("kraken", permissions={"read"}, ip_whitelist=[SIM_IP], created_at=NOW - timedelta(days=5)),
        "tidy", "--purpose", "read-only")

    # Before any audit: judged on what was recorded (never inspected), still one object of the contract.
    rc, before = status(data_dir, capsys)
    assert rc == 0 and set(before) == FIELDS and before["keys"] == 3

    _rc, audit = audit_json(data_dir, sim, capsys)
    rc, doc = status(data_dir, capsys)
    assert rc == 0 and set(doc) == FIELDS and doc["schema_version"] == 1
    assert doc["keys"] == len(audit["keys"]) == 3
    assert doc["score"] == audit["score"]
    assert doc["findings"] == audit["counts"]
    attention = [k for k in audit["keys"] if any(f["severity"] in ("critical", "high") for f in k["findings"])]
    assert doc["needs_attention"] == len(attention) >= 1
    # Every reminder names a finding audit --json reports for that key.
    by_id = {k["id"]: k for k in audit["keys"]}
    assert doc["reminders"]
    for r in doc["reminders"]:
        assert set(r) == {"key_id", "rule", "severity", "text"}
        assert any(f["rule"] == r["rule"] and f["severity"] == r["severity"] and f["title"] in r["text"]
                   for f in by_id[r["key_id"]]["findings"]), r
    rules = {r["rule"] for r in doc["reminders"]}
    assert {"shared_with_leaked_service", "too_old"} <= rules

    # keys list shows each key's risk as the window's table does: the audit's worst finding and score.
    assert main(["--data-dir", str(data_dir), "keys", "list", "--json"]) == 0
    listed = {k["id"]: k for k in json.loads(capsys.readouterr().out)}
    for k in audit["keys"]:
        worst = next((s for s in SEVERITIES if any(f["severity"] == s for f in k["findings"])), None)
        assert (listed[k["id"]]["score"], listed[k["id"]]["worst_severity"]) == (k["score"], worst)

    # --fail-on as audit's: 1 when a finding is at or above it.
    worst = next(s for s in SEVERITIES if doc["findings"][s])
    for sev in SEVERITIES:
        rc, _ = status(data_dir, capsys, "--fail-on", sev)
        assert rc == (1 if SEVERITIES.index(sev) >= SEVERITIES.index(worst) else 0), sev
    with pytest.raises(SystemExit) as usage:
        main(["--data-dir", str(data_dir), "status", "--fail-on", "bogus"])
    assert usage.value.code == 2

    # Human output: the header sentence and the reminders.
    assert cli(data_dir, sim, "status") == 0
    out = capsys.readouterr().out
    assert out.startswith(("1 of 3 keys need attention", "2 of 3 keys need attention"))
    assert "Reminders:" in out and "key leak of 2022-12-28" in out


def test_status_needs_no_keychain(data_dir, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        rc = main(["--data-dir", str(data_dir), "status", "--json"])
    finally:
        keyring.set_keyring(previous)
    assert rc == 0 and json.loads(capsys.readouterr().out)["keys"] == 0
