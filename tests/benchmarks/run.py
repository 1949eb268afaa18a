#!/usr/bin/env python
"""KeyHygiene benchmarks against the quality bars of DESIGN.md (issue #10).

    python tests/benchmarks/run.py [--quick] [--json] [--only NAME[,NAME]]

One line per benchmark with the figures it compared; with ``--json`` a JSON list on stdout (the lines go to
stderr) of objects ``{"name", "value", "unit", "ratio", "target", "pass", "detail"}``: ``target`` is a string
``"<op> <number>"`` that applies to ``ratio`` when the benchmark has one, else to ``value`` (``null`` on a line
kept for information: it always passes); ``"also"`` lists further conditions the line must meet, each
``{"name", "value", "target", "pass"}``; ``"skipped"`` is true when the line could not be measured here.

Machines are noisy, so what can be is a ratio against a baseline measured in the same run:

- startup_vs_keepassxc: outside-in, on a private Xvfb (peer_startup.py): process spawn to the X server's MapNotify
  of the first top-level window of at least 300x300, KeyHygiene over 500 stored keys against KeePassXC 2.7 opening
  a 500-entry database (``keepassxc-cli import``, 100 ms decryption time, ``--pw-stdin``), and a bare PySide6
  window for reference, interleaved, median of 7; ratio <= 1.5, and peak RSS at that moment (VmHWM, the child
  stopped on the spot) no more than KeePassXC's. ``--quick`` runs 2 rounds, and skips the line (saying so) when
  Xvfb, keepassxc or python-xlib is missing; a full run counts a skip as a miss.
- startup (information, no target): process start to the first finished frame of the main window over 500 stored
  keys, reported by the app itself, against a bare PySide6 QMainWindow started the same way (both subprocesses,
  interleaved, median). The line also shows, for diagnosis, a window of the app's shape built without any of its
  code (floor_window.py), and the same drawn without the Python types PySide6 creates on first use
  (``floor_window.py --picture``).
- audit_critical_path: 200 keys spread evenly over the 12 simulated exchanges, the simulator in its own process
  with 200 ms latency and every rate limit enforced, through ``audit_runner.inspect_many``; wall time against
  ``audit_runner.critical_path_seconds`` (per-IP budgets; requests per key counted from a calibration run's
  request log); ratio <= 1.25.
- audit_vs_serial: the same keys one at a time (``inspect_many`` of one key, awaited in turn); speedup >= 25.
- gui_stall: the longest gap of a 5 ms timer on the GUI thread while the real app audits its vault, median of 3
  audits (each one's figure shown); <= 33 ms (two frames at 60 Hz).
- report: HTML, PDF, JSON and CSV of a 1,000-key vault (one report model, four renderers, files written); < 3 s.
- scan: discovery over 100,000 small files (``build_benchmark_tree``); >= 20,000 files/s.
- memory: peak RSS of the app after that audit (the window's process plus its exchange process, peaks added)
  against the bare window's; ratio <= 2.5.
- (no workaround_* lines any more: issue 21 removed the warmup and switchinterval workarounds, which bought nothing
  once ccxt runs in the exchange process, and made gc_guard (thread safety) and the fast PySide import-hook check
  (1.4 % fewer instructions to the first frame, below what wall time resolves) always on.)
- team_keys_list: ``keyhygiene keys list`` over 1,000 keys in a team vault (a real OpenBao dev server on loopback,
  warm cache) against the local vault with the same keys, fresh processes, interleaved, median; ratio <= 2. The
  line also shows the cold figure (cache deleted: every key's metadata read from the server) (team_keys.py).
- team_startup: the window's startup (spawn to its first finished frame, as the startup line) over 1,000 keys in a
  team vault (warm cache, the token in the keychain as ``team connect`` keeps it) against the local vault with the
  same keys, interleaved, median; ratio <= 2. The team windows must have asked the server (the token is
  use-limited and counted), else the line fails: a window that opened the local vault proves nothing.
- team_audit: the 200 keys of audit_critical_path stored in a team vault, a whole ``run_audit`` (secrets read from
  the server, inspections sent back to it, every key judged) against the same critical path; ratio <= 1.25. Median
  of 3 (``--quick``: 1), interleaved with the same audit of a local vault holding the same keys (shown beside it).

``--quick`` runs every benchmark smaller (fewer keys, files and repetitions) to prove the runner works; it exits
0 even when a target is missed and non-zero only when a benchmark crashed. A full run exits 1 when any target is
missed. Not part of the pytest run (no ``test_`` files here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import workload  # noqa: E402
from bench_keyring import BACKEND_ENV_VALUE, FD_ENV, encode_entries  # noqa: E402

FIRST_PAINT_ENV = "KEYHYGIENE_BENCH_FIRST_PAINT"  # keyhygiene.app.BENCH_FIRST_PAINT_ENV
LATENCY_S = 0.2
STALL_ROUNDS = 3  # audits by the real app behind gui_stall (median)


@dataclass(frozen=True)
class Config:
    quick: bool
    startup_keys: int
    startup_reps: int
    peer_reps: int
    audit_keys: int
    report_keys: int
    scan_files: int
    team_keys: int = 1000


FULL = Config(quick=False, startup_keys=500, startup_reps=5, peer_reps=7, audit_keys=200, report_keys=1000,
              scan_files=100_000)
QUICK = Config(quick=True, startup_keys=500, startup_reps=2, peer_reps=2, audit_keys=48, report_keys=200,
               scan_files=10_000, team_keys=100)


@dataclass(frozen=True)
class Target:
    op: str  # "<=", "<", ">="
    bound: float

    def met(self, x: float | None) -> bool:
        if x is None or math.isnan(x):
            return False
        return {"<=": x <= self.bound, "<": x < self.bound, ">=": x >= self.bound}[self.op]

    def __str__(self) -> str:
        b = int(self.bound) if self.bound == int(self.bound) else self.bound
        return f"{self.op} {b}"


@dataclass(frozen=True)
class Check:
    """A further condition a line must meet besides its main target (e.g. memory next to a time)."""

    name: str
    value: float | None
    target: Target

    @property
    def passed(self) -> bool:
        return self.target.met(self.value)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": _round(self.value), "target": str(self.target), "pass": self.passed}


@dataclass
class Result:
    name: str
    value: float | None
    unit: str
    ratio: float | None
    target: Target | None  # None: shown for information, nothing to miss
    detail: str = ""
    crashed: bool = False
    skipped: bool = False
    also: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        if self.crashed or self.skipped:
            return False
        if self.target is not None and not self.target.met(self.ratio if self.ratio is not None else self.value):
            return False
        return all(c.passed for c in self.also)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": _round(self.value), "unit": self.unit, "ratio": _round(self.ratio),
                "target": None if self.target is None else str(self.target), "pass": self.passed,
                "detail": self.detail, "also": [c.to_json() for c in self.also], "skipped": self.skipped}

    def line(self) -> str:
        fig = "—" if self.value is None else f"{_fmt(self.value)} {self.unit}"
        ratio = "" if self.ratio is None else f"  ratio {_fmt(self.ratio)}"
        verdict = ("CRASH" if self.crashed else "SKIP" if self.skipped else "info" if self.target is None and
                   not self.also else "pass" if self.passed else "MISS")
        also = "".join(f" and {c.name} {_fmt(c.value) if c.value is not None else '—'} {c.target}"
                       for c in self.also)
        target = "none" if self.target is None else str(self.target)
        return f"{self.name:<20} {fig:>16}{ratio:<14}  target {target:<9}{also} {verdict:<5}  {self.detail}"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


# ---- shared measurements (each taken once, only when a selected benchmark needs it) -------------------------------
@dataclass
class Context:
    cfg: Config
    tmp: Path
    trace_stalls_ms: float | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # -- keys and audits --
    def audit_keys(self) -> list[Any]:
        return self.once("audit_keys", lambda: workload.make_keys(self.cfg.audit_keys))

    def requests_per_key(self) -> dict[str, int]:
        return self.once("rpk", _calibrate_requests_per_key)

    def parallel_audit(self) -> dict[str, Any]:
        return self.once("parallel", lambda: _audit_in_process(self.audit_keys(), serial=False))

    def serial_audit(self) -> dict[str, Any]:
        return self.once("serial", lambda: _audit_in_process(self.audit_keys(), serial=True))

    @property
    def stall_rounds(self) -> int:
        return 1 if self.cfg.quick else STALL_ROUNDS

    def app_audit(self, round_: int = 0) -> dict[str, Any]:
        """One audit by the real app (``round_`` of ``stall_rounds``)."""
        return self.once(f"app_audit{round_}", lambda: _audit_in_app(self, self.audit_keys(), round_=round_))

    def app_audits(self) -> list[dict[str, Any]]:
        return [self.app_audit(i) for i in range(self.stall_rounds)]

    # -- startup --
    def startup_vault(self) -> StartupVault:
        return self.once("startup_vault", lambda: _startup_vault(self))

    def startup_runs(self) -> dict[str, list[dict[str, float]]]:
        return self.once("startup", lambda: _startup_runs(self))

    def peer_runs(self) -> dict[str, Any]:
        return self.once("peer", lambda: _peer_runs(self))

    def bare_maxrss_kb(self) -> float:
        runs = self._cache.get("startup", {}).get("bare") or self.once("bare_only", lambda: _bare_runs(self, 3))
        return _median([r["maxrss_kb"] for r in runs])


# ---- audits -----------------------------------------------------------------------------------------------------
def _calibrate_requests_per_key() -> dict[str, int]:
    """Requests each exchange's inspection sends per key, read from the simulator's request log (two keys per
    exchange, no latency, no limits): what ``critical_path_seconds`` needs to count every request."""
    from keyhygiene.exchanges.audit_runner import inspect_many
    from keyhygiene.exchanges.catalog import SUPPORTED
    from keyhygiene.sim import run_simulator_in_thread

    keys = workload.make_keys(2 * len(SUPPORTED))
    with run_simulator_in_thread(keys=keys, latency=0.0, enforce_rate_limits=False) as sim:
        items = [(f"c{i}", k.exchange, workload.creds_of(k)) for i, k in enumerate(keys)]
        res = asyncio.run(inspect_many(items, endpoints=sim.endpoints))
        per_ex = {ex: sim.request_count(ex) for ex in SUPPORTED}
    bad = {k: p.status for k, p in res.items() if p.status != "ok"}
    if bad:
        raise RuntimeError(f"calibration keys failed: {bad}")
    n = workload.counts(keys)
    return {ex: math.ceil(per_ex[ex] / n[ex]) for ex in SUPPORTED}


def _audit_in_process(keys: list[Any], *, serial: bool) -> dict[str, Any]:
    from keyhygiene.exchanges.audit_runner import inspect_many

    items = [(f"k{i}", k.exchange, workload.creds_of(k)) for i, k in enumerate(keys)]

    async def go(endpoints: dict[str, str]) -> tuple[float, dict[str, Any]]:
        t0 = time.perf_counter()
        if serial:
            results: dict[str, Any] = {}
            for item in items:  # one key at a time, through the very same code path
                results.update(await inspect_many([item], endpoints=endpoints))
        else:
            results = await inspect_many(items, endpoints=endpoints)
        return time.perf_counter() - t0, results

    with workload.sim_process(keys, LATENCY_S) as sim:
        wall, results = asyncio.run(go(sim.endpoints))
    bad: dict[str, int] = {}
    for p in results.values():
        if p.status != "ok":
            bad[str(p.status)] = bad.get(str(p.status), 0) + 1
    return {"wall": wall, "keys": len(items), "not_ok": bad}


def _audit_in_app(ctx: Context, keys: list[Any], round_: int = 0) -> dict[str, Any]:
    """The real app auditing its vault."""
    data = ctx.tmp / f"app-audit{round_}"
    entries = workload.build_vault(data, keys, inspections=True, prefs={"audit_on_start": True})
    with workload.sim_process(keys, LATENCY_S) as sim:
        feed = workload.EntriesPipe(encode_entries(entries))
        env = workload.child_env(PYTHON_KEYRING_BACKEND=BACKEND_ENV_VALUE, **{FD_ENV: str(feed.read_fd)})
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
        if ctx.trace_stalls_ms:
            env["KEYHYGIENE_BENCH_STALL_TRACE"] = str(ctx.trace_stalls_ms)
        timeout = 60.0 if ctx.cfg.quick else 180.0
        # Diagnosis: KEYHYGIENE_BENCH_APP_PREFIX="py-spy record --threads -o out.svg --" profiles the app child.
        prefix = os.environ.get("KEYHYGIENE_BENCH_APP_PREFIX", "").split()
        proc = subprocess.Popen(
            [*prefix, sys.executable, str(HERE / "app_audit.py"), str(data), str(timeout),
             *(f"{ex}={url}" for ex, url in sim.endpoints.items())],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO, pass_fds=(feed.read_fd,),
        )
        feed.started()
        try:
            out, err = proc.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            workload.stop_process(proc)
            raise RuntimeError("the app audit child did not finish") from None
        finally:
            feed.join()
    if ctx.trace_stalls_ms:
        sys.stderr.write(err.decode(errors="replace"))
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("BENCH_RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the app audit child failed (exit {proc.returncode}): "
                           f"{err.decode(errors='replace')[-2000:]}")
    return dict(json.loads(lines[-1].split(" ", 1)[1]))


# ---- startup ------------------------------------------------------------------------------------------------------
def _time_to_first_frame(cmd: list[str], env: dict[str, str], marker: Path, feed: Any = None,
                         pass_fds: tuple[int, ...] = (), timeout: float = 120.0,
                         before_stop: Callable[[], None] | None = None) -> dict[str, float]:
    """Seconds from just before the child is spawned to the wall-clock time its first frame was finished.
    ``before_stop`` runs once that is known, the child still running (a check of what it did after its frame)."""
    marker.unlink(missing_ok=True)
    env = {**env, FIRST_PAINT_ENV: str(marker)}
    errors = marker.with_suffix(".stderr")
    with errors.open("wb") as err_file:  # a file, not a pipe nobody reads while the child runs
        t0 = time.time()
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err_file, pass_fds=pass_fds)
    if feed is not None:
        feed.started()
    try:
        deadline = time.monotonic() + timeout
        payload: Any = None
        while payload is None:
            if proc.poll() is not None and not marker.exists():
                err = errors.read_text(errors="replace")
                raise RuntimeError(f"{cmd[1:4]} exited with {proc.returncode} before painting: {err[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[1:4]} did not paint within {timeout:.0f} s")
            try:
                payload = json.loads(marker.read_text())
            except (OSError, ValueError):
                time.sleep(0.005)  # not there yet, or half-written
        out = payload if isinstance(payload, dict) else {"t": float(payload)}
        if before_stop is not None:
            before_stop()
        return {"seconds": out["t"] - t0, **{k: float(v) for k, v in out.items() if k != "t"}}
    finally:
        workload.stop_process(proc)
        if feed is not None:
            feed.join()


def _bare_run(ctx: Context) -> dict[str, float]:
    return _time_to_first_frame([sys.executable, str(HERE / "bare_window.py")], workload.child_env(),
                                ctx.tmp / "bare.mark")


def _bare_runs(ctx: Context, n: int) -> list[dict[str, float]]:
    return [_bare_run(ctx) for _ in range(n)]


@dataclass(frozen=True)
class StartupVault:
    """The 500-key vault the startup lines open, and how to start the app on it."""

    data: Path
    keychain: bytes  # BenchKeyring's entries, fed through a pipe
    app_cmd: list[str]

    def app_env(self, feed: workload.EntriesPipe) -> dict[str, str]:
        env = workload.child_env(PYTHON_KEYRING_BACKEND=BACKEND_ENV_VALUE, **{FD_ENV: str(feed.read_fd)})
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
        return env


def _startup_vault(ctx: Context) -> StartupVault:
    data = ctx.tmp / "startup"
    keys = workload.make_keys(ctx.cfg.startup_keys)
    # Not auditing on start: it begins only after the first paint anyway, and the keys are fake.
    payload = encode_entries(workload.build_vault(data, keys, inspections=True, prefs={"audit_on_start": False}))
    blackhole = [a for ex in sorted({k.exchange for k in keys}) for a in ("--endpoint", f"{ex}=http://127.0.0.1:9")]
    # An installed app starts from compiled bytecode (pip compiles it at install, the bundle ships it); where
    # PYTHONDONTWRITEBYTECODE is set (as on CI machines) a source checkout would recompile every module on every
    # start, ~90 ms the bare window (PySide6, installed) never pays. So compile the package first, as pip would.
    import compileall

    compileall.compile_dir(str(REPO / "keyhygiene"), quiet=1)
    return StartupVault(data, payload, [sys.executable, "-m", "keyhygiene", "gui", "--data-dir", str(data),
                                        *blackhole])


def _startup_runs(ctx: Context) -> dict[str, list[dict[str, float]]]:
    vault = ctx.startup_vault()

    def app_run() -> dict[str, float]:
        feed = workload.EntriesPipe(vault.keychain)
        env = vault.app_env(feed)
        return _time_to_first_frame(vault.app_cmd, env, ctx.tmp / "app.mark", feed=feed, pass_fds=(feed.read_fd,))

    def floor_run(*mode: str) -> dict[str, float]:
        return _time_to_first_frame([sys.executable, str(HERE / "floor_window.py"), str(vault.data), *mode],
                                    workload.child_env(), ctx.tmp / "floor.mark")

    _bare_run(ctx), app_run(), floor_run()  # warm-up: disk cache, fontconfig cache
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "app": [], "floor": [], "picture": []}
    for _ in range(ctx.cfg.startup_reps):  # interleaved, so a busy moment hurts all alike
        runs["bare"].append(_bare_run(ctx))
        runs["app"].append(app_run())
        runs["floor"].append(floor_run())
        runs["picture"].append(floor_run("--picture"))
    return runs


def _peer_runs(ctx: Context) -> dict[str, Any]:
    """KeyHygiene, KeePassXC and a bare PySide6 window, each timed outside-in on one private Xvfb, interleaved."""
    import peer_startup

    vault = ctx.startup_vault()
    db = peer_startup.make_keepass_database(ctx.tmp / "peer", ctx.cfg.startup_keys)
    logs = ctx.tmp / "peer-logs"
    logs.mkdir(exist_ok=True)

    def app() -> peer_startup.Launch:
        feed = workload.EntriesPipe(vault.keychain)
        return peer_startup.Launch(vault.app_cmd, vault.app_env(feed), pass_fds=(feed.read_fd,),
                                   spawned=feed.started, finished=feed.join)

    def keepassxc() -> peer_startup.Launch:
        return peer_startup.keepassxc_launch(db, ctx.tmp / "peer-config")

    def bare() -> peer_startup.Launch:
        # The map is what counts here; the window stays until the watcher stops it (first_frame.STAY_ENV).
        return peer_startup.Launch([sys.executable, str(HERE / "bare_window.py")],
                                   workload.child_env(**{FIRST_PAINT_ENV: str(ctx.tmp / "peer-bare.mark"),
                                                         "KEYHYGIENE_BENCH_STAY": "1"}))

    launches = {"app": app, "keepassxc": keepassxc, "bare": bare}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in launches}
    with peer_startup.xvfb() as display:
        watcher = peer_startup.MapWatcher(display)
        try:
            for name, make in launches.items():  # warm-up: disk and font caches, KeePassXC's config file
                watcher.measure(make(), log=logs / f"{name}.log")
            for _ in range(ctx.cfg.peer_reps):  # interleaved, so a busy moment hurts all alike
                for name, make in launches.items():
                    runs[name].append(watcher.measure(make(), log=logs / f"{name}.log"))
        finally:
            watcher.close()
    return {"runs": runs, "kdf": db.kdf, "entries": ctx.cfg.startup_keys}


# ---- benchmarks ---------------------------------------------------------------------------------------------------
def bench_startup(ctx: Context) -> Result:
    runs = ctx.startup_runs()
    bare = _median([r["seconds"] for r in runs["bare"]])
    app = _median([r["seconds"] for r in runs["app"]])
    floor = _median([r["seconds"] for r in runs["floor"]])
    picture = _median([r["seconds"] for r in runs["picture"]])
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs["app"])
    # Information only since issue 21 (startup_vs_keepassxc carries the target): the app's own report of its first
    # finished frame against a bare window's, and the floor (floor_window.py: the app's shape with none of its code).
    return Result("startup", app, "s", app / bare, None,
                  f"app {app:.3f} s vs bare QMainWindow {bare:.3f} s to first frame, median of "
                  f"{len(runs['app'])}, {ctx.cfg.startup_keys} keys; app runs {each} s; a window of the app's shape "
                  f"without its code (floor_window.py) {floor:.3f} s = {floor / bare:.2f}x bare, the same without "
                  f"the Python types PySide6 creates on first use (--picture: no shortcuts, filter box or text "
                  f"colours) {picture:.3f} s = {picture / bare:.2f}x")


def bench_startup_vs_keepassxc(ctx: Context) -> Result:
    import peer_startup

    missing = peer_startup.missing_tools()
    if missing:
        unit, target, also = UNITS_AND_TARGETS["startup_vs_keepassxc"]
        why = f"skipped: {', '.join(missing)} not installed (apt-get install keepassxc xvfb; pip install python-xlib)"
        return Result("startup_vs_keepassxc", None, unit, None, target, why, skipped=True, also=also)
    peer = ctx.peer_runs()
    return judge_startup_vs_keepassxc(peer["runs"], entries=peer["entries"], kdf=peer["kdf"])


def judge_startup_vs_keepassxc(runs: dict[str, list[dict[str, float]]], *, entries: int, kdf: str) -> Result:
    """The line from the interleaved runs (``{"app"|"keepassxc"|"bare": [{"seconds", "hwm_kb", …}, …]}``): median
    times, app against KeePassXC (<= 1.5), and the app's median peak RSS at its first window against KeePassXC's."""
    def med(name: str, key: str) -> float:
        xs = [r[key] for r in runs.get(name, []) if key in r]
        return _median(xs) if xs else math.nan

    app, peer, bare = med("app", "seconds"), med("keepassxc", "seconds"), med("bare", "seconds")
    app_mb, peer_mb, bare_mb = (med(n, "hwm_kb") / 1024 for n in ("app", "keepassxc", "bare"))
    each = ", ".join(f"{r['seconds']:.3f}" for r in runs.get("app", []))
    peers = ", ".join(f"{r['seconds']:.3f}" for r in runs.get("keepassxc", []))
    ratio = app / peer if peer > 0 else math.nan
    memory = Check("memory_vs_keepassxc", app_mb / peer_mb if peer_mb > 0 else math.nan, Target("<=", 1))
    return Result(
        "startup_vs_keepassxc", app, "s", ratio, Target("<=", 1.5),
        f"spawn to first >=300x300 window mapped (Xvfb MapNotify): KeyHygiene {app:.3f} s ({entries} keys) vs "
        f"KeePassXC {peer:.3f} s ({entries}-entry database, {kdf or 'KDF ?'} = 100 ms decryption, --pw-stdin), "
        f"bare PySide6 window {bare:.3f} s ({app / bare:.2f}x); median of {len(runs.get('app', []))}, interleaved; "
        f"peak RSS at first window {app_mb:.0f} MiB vs KeePassXC {peer_mb:.0f} MiB (bare {bare_mb:.0f} MiB); "
        f"KeyHygiene runs {each} s; KeePassXC runs {peers} s{_peer_ready(runs.get('keepassxc', []))}",
        also=[memory])


def _peer_ready(peer_runs: list[dict[str, float]]) -> str:
    """KeePassXC maps its window before it has decrypted the database; when it names the window after the
    database it is open and listed. Shown beside the line (the target is on the map, as for KeyHygiene, whose
    window is mapped with its 500 rows already in it)."""
    ready = [r["ready_seconds"] for r in peer_runs if "ready_seconds" in r]
    if not ready:
        return ""
    kb = [r["ready_hwm_kb"] for r in peer_runs if "ready_hwm_kb" in r]
    mem = f", peak RSS then {_median(kb) / 1024:.0f} MiB" if kb else ""
    return (f"; KeePassXC maps its window before unlocking: its database is open (window titled after it) at "
            f"{_median(ready):.3f} s{mem}")


def bench_audit_critical_path(ctx: Context) -> Result:
    from keyhygiene.exchanges.audit_runner import critical_path_seconds

    keys = ctx.audit_keys()
    rpk = ctx.requests_per_key()
    counts = workload.counts(keys)
    critical = critical_path_seconds(counts, LATENCY_S, requests_per_key=rpk)
    par = ctx.parallel_audit()
    multi = ",".join(f"{ex}x{m}" for ex, m in sorted(rpk.items()) if m > 1)
    return Result("audit_critical_path", par["wall"], "s", par["wall"] / critical, Target("<=", 1.25),
                  f"{par['keys']} keys over {len(counts)} exchanges, wall {par['wall']:.2f} s vs critical path "
                  f"{critical:.2f} s ({_bottleneck(counts, rpk)}; requests/key {multi or 'all 1'}); "
                  f"not ok: {par['not_ok'] or 'none'}")


def _bottleneck(counts: dict[str, int], rpk: dict[str, int]) -> str:
    from keyhygiene.exchanges.audit_runner import critical_path_seconds

    ex = max(counts, key=lambda e: critical_path_seconds({e: counts[e]}, LATENCY_S, requests_per_key=rpk))
    from keyhygiene.exchanges.limits import limit_for

    lim = limit_for(ex)
    return f"bound by {ex}: {counts[ex]} keys x {rpk.get(ex, 1)} at {lim.requests}/{lim.per_seconds:g} s"


def bench_audit_vs_serial(ctx: Context) -> Result:
    from keyhygiene.exchanges.audit_runner import critical_path_seconds

    par, ser = ctx.parallel_audit(), ctx.serial_audit()
    speedup = ser["wall"] / par["wall"]
    keys = ctx.audit_keys()
    critical = critical_path_seconds(workload.counts(keys), LATENCY_S, requests_per_key=ctx.requests_per_key())
    return Result("audit_vs_serial", ser["wall"], "s", speedup, Target(">=", 25),
                  f"one at a time {ser['wall']:.2f} s vs concurrent {par['wall']:.2f} s for {ser['keys']} keys; "
                  f"the rate limits alone cap the speedup at {ser['wall'] / critical:.1f}x "
                  f"(serial / critical path {critical:.2f} s); not ok: {ser['not_ok'] or 'none'}")


def bench_gui_stall(ctx: Context) -> Result:
    from keyhygiene.exchanges.audit_runner import critical_path_seconds

    audits = ctx.app_audits()
    gaps = [x["max_gap_ms"] for x in audits]
    a = sorted(audits, key=lambda x: x["max_gap_ms"])[len(audits) // 2]  # the median audit, shown below
    critical = critical_path_seconds(workload.counts(ctx.audit_keys()), LATENCY_S,
                                     requests_per_key=ctx.requests_per_key())
    each = f"median of {len(gaps)} audits, their longest gaps {'/'.join(f'{g:.0f}' for g in gaps)} ms; "
    return Result("gui_stall", _median(gaps), "ms", None, Target("<=", 33),
                  f"{each if len(gaps) > 1 else ''}"
                  f"longest gap of a 5 ms timer during the app's own audit of {a['keys']} keys "
                  f"({a['ticks']} ticks of {a['expected_ticks']} expected); that audit took {a['audit_s']:.2f} s "
                  f"= {a['audit_s'] / critical:.2f}x the critical path; checked {a['checked']}, "
                  f"failures {a['failures']}, error {a['error']}; ccxt "
                  f"{'loaded in the window process' if a.get('ccxt_in_gui') else 'only in the exchange process'}; "
                  f"CPU during the audit: window process {a.get('cpu_s', 0):.2f} s, exchange process "
                  f"{a.get('child_cpu_s', 0):.2f} s (started in {a.get('spawn_ms', 0):.0f} ms); gaps over 20 ms "
                  f"(at s into the audit, ms): {a.get('long_gaps') or 'none'}; collections over 5 ms "
                  f"(generation, ms): {a.get('gc_pauses') or 'none'}")




def bench_memory(ctx: Context) -> Result:
    a = ctx.app_audit()
    bare_kb = ctx.bare_maxrss_kb()
    gui_mb, child_mb = a["maxrss_kb"] / 1024, a.get("child_maxrss_kb", 0) / 1024
    app_mb, bare_mb, start_mb = gui_mb + child_mb, bare_kb / 1024, a["maxrss_at_start_kb"] / 1024
    return Result("memory", app_mb, "MB", app_mb / bare_mb, Target("<=", 2.5),
                  f"app peak RSS {app_mb:.0f} MB after auditing {a['keys']} keys = window process {gui_mb:.0f} MB "
                  f"({start_mb:.0f} MB when the audit started) + its exchange process {child_mb:.0f} MB (peaks "
                  f"added: an upper bound) vs bare window {bare_mb:.0f} MB")


def bench_report(ctx: Context) -> Result:
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.report import build_report
    from keyhygiene.core.report.engine import AuditEngine
    from keyhygiene.core.report.output import render_text, write_atomic
    from keyhygiene.paths import app_paths
    from keyhygiene.store.memory_keyring import MemoryKeyring
    from keyhygiene.store.vault import Vault
    from keyhygiene.ui.report_pdf import ensure_gui_application, write_pdf

    n = ctx.cfg.report_keys
    data, out = ctx.tmp / "report", ctx.tmp / "report-out"
    workload.build_vault(data, workload.make_keys(n), inspections=True)
    ensure_gui_application()
    times: dict[str, float] = {}
    # What the running app has loaded already (and the CLI loads once): the registry, the policy.
    with Vault(app_paths(data), backend=MemoryKeyring()) as vault:
        policy, registry = Policy.load(vault.repo), load_registry()
        t0 = time.perf_counter()
        report = build_report(vault, engine=AuditEngine(vault.repo, policy=policy, registry=registry))
        times["model"] = time.perf_counter() - t0
    for fmt in ("html", "json", "csv"):
        t = time.perf_counter()
        write_atomic(out / f"report.{fmt}", render_text(report, fmt).encode("utf-8"))
        times[fmt] = time.perf_counter() - t
    t = time.perf_counter()
    write_pdf(report, out / "report.pdf")
    times["pdf"] = time.perf_counter() - t
    total = sum(times.values())
    sizes = ", ".join(f"{p.suffix[1:]} {p.stat().st_size // 1024} KB" for p in sorted(out.iterdir()))
    return Result("report", total, "s", None, Target("<", 3),
                  f"{n} keys: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()) + f" ({sizes})")


def bench_scan(ctx: Context) -> Result:
    from keyhygiene.core.discovery import scan
    from tests.fixtures.discovery.trees import build_benchmark_tree

    root = ctx.tmp / "scan-tree"
    written = build_benchmark_tree(root, ctx.cfg.scan_files)
    t0 = time.perf_counter()
    result = scan([root])
    wall = time.perf_counter() - t0
    files = result.stats.files
    if files < written:
        raise RuntimeError(f"the scan saw {files} of the {written} files written")
    rate = files / wall
    return Result("scan", rate, "files/s", None, Target(">=", 20_000),
                  f"{files:,} files in {result.stats.dirs:,} folders in {wall:.2f} s; "
                  f"{result.stats.candidates} opened by name, {len(result.found)} keys found")


def bench_team_keys_list(ctx: Context) -> Result:
    import team_keys

    m = team_keys.measure(ctx.tmp, workload.make_keys(ctx.cfg.team_keys), reps=3 if ctx.cfg.quick else 5)
    return Result("team_keys_list", m["warm"], "s", m["warm"] / m["local"], Target("<=", 2),
                  f"{m['keys']} keys: team {m['warm']:.2f} s (cold cache {m['cold']:.2f} s) vs local "
                  f"{m['local']:.2f} s; import of the keys into the team vault took {m['fill']:.0f} s")


def bench_team_startup(ctx: Context) -> Result:
    import compileall

    import team_keys

    compileall.compile_dir(str(REPO / "keyhygiene"), quiet=1)  # as _startup_vault: an installed app's bytecode
    keys = workload.make_keys(ctx.cfg.team_keys)
    # Not auditing on start (it begins after the first frame anyway); the exchanges a black hole, as for startup.
    blackhole = [a for ex in sorted({k.exchange for k in keys}) for a in ("--endpoint", f"{ex}=http://127.0.0.1:9")]
    with team_keys.startup_pair(ctx.tmp, keys, prefs={"audit_on_start": False}) as pair:
        def run(side: team_keys.StartupSide, mark: str, before_stop: Callable[[], None] | None = None
                ) -> dict[str, float]:
            vault = StartupVault(side.data, encode_entries(side.entries),
                                 [sys.executable, "-m", "keyhygiene", "gui", "--data-dir", str(side.data), *blackhole])
            feed = workload.EntriesPipe(vault.keychain)
            return _time_to_first_frame(vault.app_cmd, vault.app_env(feed), ctx.tmp / mark, feed=feed,
                                        pass_fds=(feed.read_fd,), before_stop=before_stop)

        def team_run() -> dict[str, float]:
            before = pair.requests_made()
            seen: list[int] = []

            def refreshed() -> None:
                # The window may refresh from the server after its first frame (the cache first): wait for that
                # before stopping it. The time measured is the first frame's, whenever the refresh comes.
                deadline = time.monotonic() + 20
                while pair.requests_made() <= before and time.monotonic() < deadline:
                    time.sleep(0.05)
                seen.append(pair.requests_made() - before)

            r = run(pair.team, "team-startup.mark", refreshed)
            if not seen or seen[0] <= 0:
                raise RuntimeError("the window on the team folder never asked the team vault's server: it opened the "
                                   "local vault (app.build_session must open service.backend.open_backend)")
            return {**r, "requests": float(seen[0])}

        run(pair.local, "local-startup.mark"), team_run()  # warm-up: disk cache, fontconfig, bytecode
        local: list[dict[str, float]] = []
        team: list[dict[str, float]] = []
        for _ in range(ctx.cfg.startup_reps):  # interleaved, so a busy moment hurts both alike
            local.append(run(pair.local, "local-startup.mark"))
            team.append(team_run())
    return judge_team_startup(local, team, keys=len(keys))


def judge_team_startup(local: list[dict[str, float]], team: list[dict[str, float]], *, keys: int) -> Result:
    """The line from interleaved runs (``[{"seconds", "requests"?}, …]`` each): medians, team against local."""
    lo, te = _median([r["seconds"] for r in local]), _median([r["seconds"] for r in team])
    asked = _median([r.get("requests", 0.0) for r in team])
    each = {name: ", ".join(f"{r['seconds']:.2f}" for r in runs) for name, runs in (("team", team), ("local", local))}
    return Result("team_startup", te, "s", te / lo, Target("<=", 2),
                  f"{keys} keys, spawn to first frame: team vault {te:.3f} s (warm cache; the window asked the server "
                  f"{asked:.0f} times by its refresh) vs local vault {lo:.3f} s, median of {len(team)}, interleaved; "
                  f"team runs {each['team']} s; local runs {each['local']} s")


def bench_team_audit(ctx: Context) -> Result:
    import team_keys

    from keyhygiene.exchanges.audit_runner import critical_path_seconds

    keys = ctx.audit_keys()
    counts = workload.counts(keys)
    critical = critical_path_seconds(counts, LATENCY_S, requests_per_key=ctx.requests_per_key())
    m = team_keys.audit(ctx.tmp, keys, LATENCY_S, reps=1 if ctx.cfg.quick else 3)
    return Result("team_audit", m["wall"], "s", m["wall"] / critical, Target("<=", 1.25),
                  f"{m['keys']} team-vault keys, whole audit {m['wall']:.2f} s (local vault, same keys: "
                  f"{m['local']:.2f} s = {m['local'] / critical:.2f}x) vs critical path {critical:.2f} s, median of "
                  f"{len(m['runs']['team'])} interleaved; team runs {', '.join(f'{x:.2f}' for x in m['runs']['team'])} "
                  f"s, local runs {', '.join(f'{x:.2f}' for x in m['runs']['local'])} s; "
                  f"not ok: {m['not_ok'] or 'none'}; vault errors: {len(m['errors'])}")


BENCHMARKS: dict[str, Callable[[Context], Result]] = {
    "startup_vs_keepassxc": bench_startup_vs_keepassxc,
    "startup": bench_startup,
    "audit_critical_path": bench_audit_critical_path,
    "audit_vs_serial": bench_audit_vs_serial,
    "gui_stall": bench_gui_stall,
    "report": bench_report,
    "scan": bench_scan,
    "memory": bench_memory,
    "team_keys_list": bench_team_keys_list,
    "team_startup": bench_team_startup,
    "team_audit": bench_team_audit,
}
UNITS_AND_TARGETS: dict[str, tuple[str, Target | None, list[Check]]] = {  # for a crashed or skipped line
    "startup_vs_keepassxc": ("s", Target("<=", 1.5), [Check("memory_vs_keepassxc", None, Target("<=", 1))]),
    "startup": ("s", None, []), "audit_critical_path": ("s", Target("<=", 1.25), []),
    "audit_vs_serial": ("s", Target(">=", 25), []), "gui_stall": ("ms", Target("<=", 33), []),
    "report": ("s", Target("<", 3), []), "scan": ("files/s", Target(">=", 20_000), []),
    "memory": ("MB", Target("<=", 2.5), []),
    "team_keys_list": ("s", Target("<=", 2), []),
    "team_startup": ("s", Target("<=", 2), []),
    "team_audit": ("s", Target("<=", 1.25), []),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="run.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller runs that check the runner works (exit 0 on a miss)")
    p.add_argument("--json", action="store_true", help="print a JSON list of results on stdout")
    p.add_argument("--only", action="append", metavar="NAME", help=f"run only these ({', '.join(BENCHMARKS)})")
    p.add_argument("--trace-stalls", type=float, metavar="MS",
                   help="diagnosis: print every thread's stack whenever the app's GUI thread stalls this long")
    args = p.parse_args(argv)
    names = [n for o in (args.only or []) for n in o.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(BENCHMARKS)}")
    cfg = QUICK if args.quick else FULL
    say = sys.stderr if args.json else sys.stdout
    results: list[Result] = []
    tmp = Path(tempfile.mkdtemp(prefix="keyhygiene-bench-"))
    try:
        ctx = Context(cfg, tmp, trace_stalls_ms=args.trace_stalls)
        for name in names:
            t = time.perf_counter()
            try:
                r = BENCHMARKS[name](ctx)
            except Exception as exc:  # noqa: BLE001 - report it and carry on with the others
                traceback.print_exc(file=sys.stderr)
                unit, target, also = UNITS_AND_TARGETS[name]
                r = Result(name, None, unit, None, target, f"crashed: {type(exc).__name__}: {exc}", crashed=True,
                           also=also)
            results.append(r)
            print(r.line() + f"  [{time.perf_counter() - t:.0f} s]", file=say, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        json.dump([r.to_json() for r in results], sys.stdout, indent=2)
        sys.stdout.write("\n")
    if any(r.crashed for r in results):
        return 2
    if not cfg.quick and not all(r.passed for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
