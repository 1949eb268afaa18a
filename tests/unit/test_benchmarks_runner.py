"""tests/benchmarks/run.py works: --quick runs, --json prints the documented fields, bad names are refused.

Only the scan benchmark runs here (a few seconds); the others start Qt, the simulator and the app as
subprocesses and belong to ``python tests/benchmarks/run.py --quick`` in .ci/run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest

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


# ---- startup_vs_keepassxc: the parts that decide what the line says (issue 21) -------------------------------------
def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_runner()
import peer_startup  # noqa: E402 - tests/benchmarks is on sys.path once run.py is loaded


def _runs(app: list[float], peer: list[float], bare: list[float], app_kb: float = 70_000,
          peer_kb: float = 105_000) -> dict[str, list[dict[str, float]]]:
    return {"app": [{"seconds": s, "hwm_kb": app_kb, "rss_kb": app_kb} for s in app],
            "keepassxc": [{"seconds": s, "hwm_kb": peer_kb} for s in peer],
            "bare": [{"seconds": s, "hwm_kb": 50_000} for s in bare]}


def test_peer_line_compares_medians_and_memory() -> None:
    # Medians 0.19 / 0.13: 1.46x passes; the outliers (a busy moment) do not move a median of 7.
    runs = _runs([0.18, 0.19, 0.5, 0.19, 0.2, 0.17, 0.21], [0.13, 0.12, 0.4, 0.13, 0.14, 0.13, 0.12],
                 [0.1] * 7)
    r = bench.judge_startup_vs_keepassxc(runs, entries=500, kdf="1807228 rounds")
    assert r.name == "startup_vs_keepassxc" and r.unit == "s"
    assert r.value == 0.19 and abs(r.ratio - 0.19 / 0.13) < 1e-9
    assert r.passed
    memory = r.also[0]
    assert memory.name == "memory_vs_keepassxc" and abs(memory.value - 70 / 105) < 1e-9 and memory.passed
    # Both compared figures of each kind are on the line.
    assert "KeyHygiene 0.190 s" in r.detail and "KeePassXC 0.130 s" in r.detail
    assert "bare PySide6 window 0.100 s" in r.detail
    assert "68 MiB vs KeePassXC 103 MiB" in r.detail and "1807228 rounds" in r.detail and "median of 7" in r.detail
    out = r.to_json()
    assert out["target"] == "<= 1.5" and out["pass"] is True and out["skipped"] is False
    assert out["also"] == [{"name": "memory_vs_keepassxc", "value": round(70 / 105, 4), "target": "<= 1",
                            "pass": True}]


def test_peer_line_misses_on_time_or_on_memory() -> None:
    slow = bench.judge_startup_vs_keepassxc(_runs([0.2] * 7, [0.13] * 7, [0.1] * 7), entries=500, kdf="")
    assert slow.ratio > 1.5 and not slow.passed and "MISS" in slow.line()
    heavy = bench.judge_startup_vs_keepassxc(_runs([0.15] * 7, [0.13] * 7, [0.1] * 7, app_kb=110_000),
                                             entries=500, kdf="")
    assert heavy.ratio <= 1.5 and not heavy.also[0].passed
    assert not heavy.passed and heavy.to_json()["pass"] is False and "MISS" in heavy.line()


def test_skipped_peer_line_says_why_and_never_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peer_startup, "missing_tools", lambda: ["keepassxc", "python-xlib"])
    r = bench.bench_startup_vs_keepassxc(bench.Context(bench.QUICK, Path("/nonexistent")))
    assert r.skipped and not r.passed and r.value is None
    assert "keepassxc, python-xlib not installed" in r.detail and "SKIP" in r.line()
    assert r.to_json()["skipped"] is True and r.to_json()["pass"] is False


def test_information_line_has_no_target_and_always_passes() -> None:
    r = bench.Result("startup", 0.3, "s", 2.2, None, "app vs bare")
    assert r.passed and r.to_json()["target"] is None and " info " in r.line()


def test_gui_stall_target_is_two_frames() -> None:
    assert str(bench.UNITS_AND_TARGETS["gui_stall"][1]) == "<= 33"


def test_proc_status_memory_and_window_size_rules() -> None:
    status = "Name:\tkeepassxc\nVmPeak:\t  900000 kB\nVmHWM:\t  105396 kB\nVmRSS:\t  104824 kB\nThreads:\t7\n"
    assert peer_startup.memory_from_status(status) == {"hwm_kb": 105396.0, "rss_kb": 104824.0}
    assert peer_startup.memory_from_status("Name:\tzombie\n") == {}
    assert peer_startup.is_first_window(300, 300) and peer_startup.is_first_window(1360, 840)
    assert not peer_startup.is_first_window(299, 800) and not peer_startup.is_first_window(800, 1)
    cli = ("Benchmarking key derivation function for 100ms delay.\nSetting 5555555 rounds for key derivation "
           "function.\nSuccessfully imported database.\n")
    assert peer_startup.kdf_of(cli) == "5555555 rounds" and peer_startup.kdf_of("nothing") == ""


def test_keepass_export_has_the_entries_asked_for() -> None:
    root = ElementTree.fromstring(peer_startup.keepass_xml(25))
    entries = root.findall("./Root/Group/Entry")
    assert len(entries) == 25
    titles = [e.find("./String[Key='Title']/Value").text for e in entries]  # type: ignore[union-attr]
    assert titles[0] == "exchange key 000" and len(set(titles)) == 25


@pytest.mark.skipif(bool(peer_startup.missing_tools()), reason="needs Xvfb, keepassxc and python-xlib")
def test_map_watcher_times_a_real_window_and_ignores_small_ones(tmp_path: Path) -> None:
    # A child that maps a 200x200 window first (not a main window) and a 400x350 one half a second later: the
    # probe must report the second, with the child's memory.
    script = tmp_path / "two_windows.py"
    script.write_text(
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication, QWidget\n"
        "app = QApplication(sys.argv[:1])\n"
        "small = QWidget(); small.resize(200, 200); small.show(); app.processEvents(); time.sleep(0.5)\n"
        "big = QWidget(); big.resize(400, 350); big.show()\n"
        "app.exec()\n")
    with peer_startup.xvfb() as display:
        watcher = peer_startup.MapWatcher(display)
        try:
            out = watcher.measure(peer_startup.Launch([sys.executable, str(script)], dict(os.environ)),
                                  log=tmp_path / "child.log", timeout=60)
        finally:
            watcher.close()
    assert (out["width"], out["height"]) == (400, 350)
    assert out["seconds"] >= 0.5
    assert out["hwm_kb"] > 10_000 and out["rss_kb"] > 10_000


def test_peer_line_shows_when_keepassxc_had_its_database_open() -> None:
    runs = _runs([0.2] * 3, [0.14] * 3, [0.1] * 3)
    for r, ready in zip(runs["keepassxc"], (0.35, 0.30, 0.40), strict=True):
        r.update(ready_seconds=ready, ready_hwm_kb=110 * 1024)
    r = bench.judge_startup_vs_keepassxc(runs, entries=500, kdf="")
    assert "database is open (window titled after it) at 0.350 s, peak RSS then 110 MiB" in r.detail
    assert abs(r.ratio - 0.2 / 0.14) < 1e-9  # the target stays on the map, for both


def test_the_bare_window_of_the_peer_line_stays_until_it_is_stopped(tmp_path: Path) -> None:
    """startup_vs_keepassxc asks the X server for the size of each mapped window; a bare window that quit after its
    first frame was sometimes gone by then, and the line crashed. With KEYHYGIENE_BENCH_STAY it waits."""
    import time

    mark = tmp_path / "bare.mark"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KEYHYGIENE_BENCH_FIRST_PAINT": str(mark),
           "KEYHYGIENE_BENCH_STAY": "1"}
    proc = subprocess.Popen([sys.executable, str(RUN.parent / "bare_window.py")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert mark.exists(), "no first frame"
        time.sleep(0.5)
        assert proc.poll() is None  # still there for the watcher
    finally:
        proc.kill()
        proc.wait(10)


# ---- team_startup (issue 22): the window over the team vault against the local one ---------------------------------
def test_team_startup_line_compares_medians_and_shows_the_requests() -> None:
    local = [{"seconds": s} for s in (0.40, 0.42, 0.9, 0.41, 0.43)]
    team = [{"seconds": s, "requests": 3.0} for s in (0.60, 0.62, 1.5, 0.61, 0.63)]
    r = bench.judge_team_startup(local, team, keys=1000)
    assert r.name == "team_startup" and r.unit == "s" and str(r.target) == "<= 2"
    assert r.value == 0.62 and abs(r.ratio - 0.62 / 0.42) < 1e-9 and r.passed
    assert "1000 keys" in r.detail and "asked the server 3 times" in r.detail and "median of 5" in r.detail
    slow = bench.judge_team_startup(local, [{"seconds": 0.9, "requests": 3.0}] * 5, keys=1000)
    assert abs(slow.ratio - 0.9 / 0.42) < 1e-9 and not slow.passed


def test_a_childs_peak_rss_is_its_own_not_its_parents() -> None:
    """ru_maxrss survives execve: a child started by subprocess from a big runner reported the runner's size (the
    memory line read 242 MB for a 103 MB window in a full run). peak_rss_kb reads the child's own VmHWM."""
    code = ("import subprocess, sys\n"
            "block = bytearray(300 * 1024 * 1024)\n"
            "for i in range(0, len(block), 4096): block[i] = 1\n"
            "out = subprocess.run([sys.executable, '-c', 'import peak_rss; print(peak_rss.peak_rss_kb())'],\n"
            "                     capture_output=True, text=True, check=True).stdout\n"
            "print(int(out) // 1024)\n")
    env = {**os.environ, "PYTHONPATH": str(RUN.parent)}
    child_mb = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                  env=env).stdout)
    assert child_mb < 150, f"the child reported {child_mb} MB: its parent's 300 MB leaked into the figure"


def test_process_snapshot_says_what_a_process_holds(tmp_path: Path) -> None:
    """The memory line's diagnosis (KEYHYGIENE_BENCH_MODULES): modules in import order, RSS by mapping, the PySide
    enum classes and types built, also those the app froze out of gc.get_objects() (ui/gc_guard.py)."""
    code = ("import gc\n"
            "from PySide6.QtCore import Qt\n"
            "_ = Qt.AlignmentFlag\n"
            "gc.freeze()\n"
            "import process_snapshot\n"
            f"process_snapshot.write({str(tmp_path / 'snap')!r}, 'start')\n")
    env = {**os.environ, "PYTHONPATH": str(RUN.parent), "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=120)
    snap = json.loads((tmp_path / "snap.start.json").read_text(encoding="utf-8"))
    assert snap["moment"] == "start"
    modules = snap["modules"]
    assert modules.index("PySide6.QtCore") < modules.index("process_snapshot")  # import order, not sorted
    assert int(snap["status"]["VmHWM"].split()[0]) >= int(snap["status"]["VmRSS"].split()[0]) > 0
    assert snap["smaps"]["[anon]"] > 0 and any(name.endswith(".so") or ".so." in name for name in snap["smaps"])
    assert dict(snap["qt_enums"])["Qt"][0] > 10  # Qt's enums were built before the freeze and are still counted
    assert "Qt" in snap["qt_types"]["PySide6.QtCore"]
    assert (tmp_path / "snap.start.malloc.xml").read_text(encoding="utf-8").startswith("<malloc")


def test_window_imports_prints_the_rss_of_a_module_list(tmp_path: Path) -> None:
    """window_imports.py imports a snapshot's module list into a shown window, minus what it is told to leave out."""
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(json.dumps({"modules": ["json", "email.message", "tracemalloc", "__main__"]}), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(RUN.parent), "QT_QPA_PLATFORM": "offscreen"}
    script = str(RUN.parent / "window_imports.py")

    def loaded(excluded: str) -> str:
        code = ("import runpy, sys\n"
                f"sys.argv = [{script!r}, {str(snapshot)!r}, {excluded!r}]\n"
                "try:\n"
                f"    runpy.run_path({script!r}, run_name='__main__')\n"
                "except SystemExit:\n"
                "    pass\n"
                "print('EMAIL' if 'email.message' in sys.modules else 'NO-EMAIL')\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                             timeout=120).stdout
        assert " MB over the shown window" in out
        return out.splitlines()[-1]

    assert loaded("") == "EMAIL"
    assert loaded("email") == "NO-EMAIL"
