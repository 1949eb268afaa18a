"""``keyhygiene report`` end to end: a real vault, real ccxt against the simulator for --refresh, every format,
the exit codes, and no secret in any file (the reports live in the watched data dir)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from keyhygiene.cli import main
from keyhygiene.core.report import integrity
from keyhygiene.paths import app_paths
from keyhygiene.sim import SimKey, Simulator, SimulatorThread
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.keyrings import LockedKeyring
from tests.helpers.simkeys import creds_of, make_key


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(exchanges=("binance", "bybit", "okx"), enforce_rate_limits=False))
    yield runner.start()
    runner.stop()


@pytest.fixture
def stocked(sim: Simulator, data_dir: Path, memory_keyring: MemoryKeyring) -> Iterator[tuple[Vault, list[SimKey]]]:
    keys = [
        sim.add_key(make_key("binance", permissions={"read", "spot_trade", "withdraw"})),
        sim.add_key(make_key("bybit", permissions={"read"}, ip_whitelist=["203.0.113.10"])),
        sim.add_key(make_key("okx", permissions={"read", "spot_trade"})),
    ]
    v = Vault(app_paths(data_dir), backend=memory_keyring)
    v.add_key("binance", "Main <b>bot</b>", creds_of(keys[0]), purpose="bot",
              shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    v.add_key("bybit", "Tax", creds_of(keys[1]), purpose="tax", shared_with=[ServiceRef("koinly", date(2024, 1, 1))])
    v.add_key("okx", "=SUM(A1:A9)", creds_of(keys[2]), purpose="trading")
    try:
        yield v, keys
    finally:
        v.close()


def run(sim: Simulator, data_dir: Path, *args: str) -> int:
    # `report -o` makes no folders (issue 18): the reports folder is made here, as a user would.
    (data_dir / "reports").mkdir(parents=True, exist_ok=True)
    eps = [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]
    return main(["report", *args, "--data-dir", str(data_dir), *eps])


def no_secrets(data: bytes, keys: list[SimKey]) -> None:
    for k in keys:
        for value in (k.api_key, k.secret, k.passphrase):
            if value:
                assert value.encode() not in data


@pytest.mark.parametrize("fmt", ["html", "pdf", "json", "csv"])
def test_every_format_after_a_refresh(sim: Simulator, stocked, data_dir: Path, fmt: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _vault, keys = stocked
    out = data_dir / "reports" / f"report.{fmt}"
    assert run(sim, data_dir, "--format", fmt, "-o", str(out), "--refresh") == 0
    stdout = capsys.readouterr().out
    assert f"Wrote the {fmt.upper()} report of 3 keys" in stdout
    data = out.read_bytes()
    no_secrets(data, keys)
    if fmt == "json":
        doc = json.loads(data)
        assert doc["refreshed"] is True and len(doc["keys"]) == 3
        assert {k["status"] for k in doc["keys"]} == {"ok"}
        assert next(k for k in doc["keys"] if k["exchange"] == "binance")["permissions"] == \
            ["margin_trade", "read", "spot_trade", "withdraw"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        assert len(rows) == 3
        assert {r["label"] for r in rows} == {"Main <b>bot</b>", "Tax", "'=SUM(A1:A9)"}
    elif fmt == "html":
        text = data.decode("utf-8")
        assert "Main &lt;b&gt;bot&lt;/b&gt;" in text and "Results from an audit run just before" in text
        assert text.count("<svg ") == 3
    else:
        assert data.startswith(b"%PDF")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True,
                                  text=True).stdout
            no_secrets(text.encode(), keys)
            assert "Main <b>bot</b>" in text and "=SUM(A1:A9)" in text
    assert integrity.verify(out)[0]  # the CSV too: its own report_sha256 column


def test_without_refresh_uses_the_last_results_and_needs_no_keychain(sim: Simulator, stocked, data_dir: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    out = data_dir / "reports" / "before.json"
    assert run(sim, data_dir, "-o", str(out)) == 0  # format from the extension
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["refreshed"] is False and doc["results"]["unchecked_keys"] == 3
    assert "No key has been inspected yet" in capsys.readouterr().out
    assert run(sim, data_dir, "--format", "json", "-o", str(out), "--refresh") == 0
    # A locked keychain does not stop a report from stored results: it holds no secret.
    monkeypatch.setattr(keyring, "get_keyring", lambda: LockedKeyring())
    keyring.set_keyring(LockedKeyring())
    assert run(sim, data_dir, "--format", "csv", "-o", str(data_dir / "reports" / "after.csv")) == 0
    # ...but --refresh needs the secrets: exit 3, nothing written.
    target = data_dir / "reports" / "refresh.csv"
    assert run(sim, data_dir, "--format", "csv", "-o", str(target), "--refresh") == 3
    assert not target.exists()


def test_stdout_and_usage_errors(sim: Simulator, stocked, data_dir: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run(sim, data_dir, "--format", "csv", "-o", "-") == 0
    out = capsys.readouterr().out
    assert out.startswith("exchange,label,key,") and out.count("\r\n") == 4
    assert run(sim, data_dir, "--format", "pdf", "-o", "-") == 2
    assert "needs a file" in capsys.readouterr().err
    assert run(sim, data_dir, "-o", str(data_dir / "report.txt")) == 2
    assert "--format" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run(sim, data_dir, "--format", "docx", "-o", "x.docx")
    assert exc.value.code == 2
    blocker = data_dir / "blocker"
    blocker.write_text("x")
    assert run(sim, data_dir, "--format", "html", "-o", str(blocker / "r.html")) == 2
    assert "cannot write the report" in capsys.readouterr().err


# ---- issue 18 item 8: where a report may go ------------------------------------------------------------------
def _report_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run([sys.executable, "-m", "keyhygiene", "--data-dir", str(data_dir), "report", *args],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="POSIX only")
@pytest.mark.parametrize("target", ["fifo", "device", "symlink", "missing-folder", "folder"])
def test_report_refuses_special_targets_and_missing_folders(tmp_path: Path, target: str) -> None:
    import os

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = {
        "fifo": tmp_path / "r.json",
        "device": Path("/dev/null"),
        "symlink": tmp_path / "link.json",
        "missing-folder": tmp_path / "no" / "such" / "r.json",
        "folder": tmp_path,
    }[target]
    if target == "fifo":
        os.mkfifo(path)
    if target == "symlink":
        path.symlink_to(victim)
    r = _report_cli(tmp_path / "data", "--format", "json", "-o", str(path))
    assert r.returncode == 2, r
    assert "Traceback" not in r.stderr and r.stderr.strip()
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "no").exists()


def test_a_report_file_is_private(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = _report_cli(tmp_path / "data", "-o", str(out))
    assert r.returncode == 0, r
    assert out.stat().st_mode & 0o777 == 0o600
