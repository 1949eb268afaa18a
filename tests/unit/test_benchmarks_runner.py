"""tests/benchmarks/run.py works: --quick runs, --json prints the documented fields, bad names are refused.

Only the scan benchmark runs here (a few seconds); the others start Qt, the simulator and the app as
subprocesses and belong to ``python tests/benchmarks/run.py --quick`` in .ci/run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
FIELDS = {"name", "value", "unit", "ratio", "target", "pass"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=240)


def test_quick_json_has_the_documented_fields() -> None:
    proc = run("--quick", "--json", "--only", "scan")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)  # stdout is pure JSON; the human lines went to stderr
    assert isinstance(results, list) and len(results) == 1
    r = results[0]
    assert FIELDS <= set(r)
    assert r["name"] == "scan" and r["unit"] == "files/s" and r["ratio"] is None
    assert r["target"] == ">= 20000"
    assert isinstance(r["value"], float) and r["value"] > 0
    assert r["pass"] is (r["value"] >= 20_000)
    assert "files" in r["detail"]
    assert proc.stderr.splitlines()[0].startswith("scan ")  # one line per benchmark, with the figures


def test_unknown_benchmark_is_a_usage_error() -> None:
    proc = run("--quick", "--only", "startup,nonsense")
    assert proc.returncode == 2
    assert "nonsense" in proc.stderr and "audit_critical_path" in proc.stderr


def test_each_workaround_has_a_line_and_a_switch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every workaround the app keeps has a benchmark line showing what it buys, and can be turned off for it."""
    from keyhygiene.ui import workarounds

    assert {f"workaround_{n}" for n in workarounds.NAMES} <= set(run("--quick", "--only", "nonsense").stderr.split(
        "one of ")[-1].replace(",", " ").split())
    monkeypatch.setenv(workarounds.WITHOUT_ENV, "warmup,gc_guard")
    assert not workarounds.enabled("warmup") and not workarounds.enabled("gc_guard")
    assert workarounds.enabled("switchinterval") and workarounds.enabled("import_hook")
    monkeypatch.delenv(workarounds.WITHOUT_ENV)
    assert all(workarounds.enabled(n) for n in workarounds.NAMES)
