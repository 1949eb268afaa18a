"""Child process for ``gui_stall`` and ``memory``: the real app auditing its vault, with an event-loop probe.

``python tests/benchmarks/app_audit.py DATA_DIR TIMEOUT_S [EXCHANGE=URL ...]`` runs ``keyhygiene gui`` through
``keyhygiene.cli.main`` exactly as a user's double-click would; the vault's preferences leave "audit on start"
on, so the window's own services start the audit after the first paint. The child only adds:

- a 5 ms ``QTimer`` probe on the GUI thread: the longest gap between two ticks while the audit runs is how long
  the event loop was blocked (a gap near 5 ms means it never was);
- a hook on ``Services.auditStarted`` / ``auditFinished`` that times the audit, reads the peak RSS (the window's
  and its exchange process's), prints one ``BENCH_RESULT {json}`` line and quits the app.

The keychain is ``bench_keyring.BenchKeyring`` (PYTHON_KEYRING_BACKEND), filled through a pipe by the parent.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from typing import Any

from peak_rss import peak_rss_kb

PROBE_MS = 5
# Diagnosis: with KEYHYGIENE_BENCH_STALL_TRACE=<ms>, a watchdog thread prints where every thread was whenever the
# GUI thread has not ticked for that long (run.py --trace-stalls MS passes it on).
TRACE_ENV = "KEYHYGIENE_BENCH_STALL_TRACE"
# Diagnosis: with KEYHYGIENE_BENCH_MODULES=<path>, what the window process holds when the audit starts and when it
# finishes (modules, threads, memory by mapping, ...) is written next to <path> (process_snapshot.py, imported only
# then: the measured window must not load what it imports).
MODULES_ENV = "KEYHYGIENE_BENCH_MODULES"


def _snapshot(moment: str) -> None:
    if os.environ.get(MODULES_ENV):
        import process_snapshot

        process_snapshot.write(os.environ[MODULES_ENV], moment)


def _watchdog(state: dict[str, Any], threshold_s: float) -> None:
    """While the GUI thread has not ticked for ``threshold_s``, sample every thread's stack each millisecond; when
    it ticks again, print how often each stack was seen. A GUI stack ending in ``app.exec()`` is C++ (Qt work,
    or waiting for the GIL): then the other threads' stacks say who held the GIL."""
    from collections import Counter

    main_id = threading.main_thread().ident
    me = threading.get_ident()
    samples: dict[str, Counter[str]] = {}
    stalled_since = None
    while not state.get("done"):
        time.sleep(0.001)
        last = state["last"]
        if last is None or state["started"] is None:
            continue
        silent = time.perf_counter() - last
        if silent > threshold_s:
            stalled_since = stalled_since or last
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                tag = "GUI" if ident == main_id else str(names.get(ident, ident))
                stack = "".join(traceback.format_stack(frame)[-5:])
                samples.setdefault(tag, Counter())[stack] += 1
        elif stalled_since is not None and last != stalled_since:
            out = [f"=== GUI thread stalled {(last - stalled_since) * 1000:.0f} ms at "
                   f"t={stalled_since - state['started']:.2f} s of the audit"]
            for tag, counter in samples.items():
                for stack, n in counter.most_common(3):
                    out.append(f"[{tag}] x{n}\n{stack}")
            sys.stderr.write("\n".join(out) + "\n")
            samples.clear()
            stalled_since = None


def _child_cpu_s(services: Any) -> float:
    """CPU seconds the app's exchange process used so far (user + system), for the line's detail."""
    pid = getattr(getattr(services.app.runtime, "_exchanges", None), "pid", None)
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _child_peak_kb(services: Any) -> int:
    """Peak RSS (VmHWM) of the app's exchange process, if it runs one: the app's memory is both processes'."""
    executor = getattr(services.app.runtime, "_exchanges", None)
    pid = getattr(executor, "pid", None)
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    data_dir, timeout_s, endpoint_args = argv[0], float(argv[1]), argv[2:]
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from keyhygiene import cli
    from keyhygiene.app import ensure_application

    app = ensure_application()  # the app's own bootstrap; keyhygiene.app.run reuses this instance
    state: dict[str, Any] = {"last": None, "max_gap": 0.0, "ticks": 0, "started": None, "hooked": False,
                             "result": None, "long_gaps": []}

    def tick() -> None:
        now = time.perf_counter()
        if state["started"] is not None and state["result"] is None and state["last"] is not None:
            gap = now - state["last"]
            state["max_gap"] = max(state["max_gap"], gap)
            if gap > 0.02:  # for the line's detail: when in the audit the window missed a frame
                state["long_gaps"].append((round(state["last"] - state["started"], 3), round(gap * 1000, 1)))
            state["ticks"] += 1
        state["last"] = now

    # Diagnosis: every cyclic collection during the audit (generation, ms), on whichever thread ran it.
    import gc

    gc_start: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start["t"] = time.perf_counter()
        elif state["started"] is not None and state["result"] is None and "t" in gc_start:
            ms = (time.perf_counter() - gc_start["t"]) * 1000
            if ms > 5:
                state["gc_pauses"].append((info["generation"], round(ms, 1)))

    gc.callbacks.append(on_gc)
    state["gc_pauses"] = []
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(tick)
    probe.start()
    if os.environ.get(TRACE_ENV):
        threading.Thread(target=_watchdog, args=(state, float(os.environ[TRACE_ENV]) / 1000), daemon=True,
                         name="bench-watchdog").start()

    def on_started(ids: list[str]) -> None:
        state["started"] = time.perf_counter()
        state["keys"] = len(ids)
        state["maxrss_at_start_kb"] = peak_rss_kb()
        state["cpu_at_start"] = time.process_time()
        _snapshot("start")

    def on_finished(outcome: Any) -> None:
        if state["result"] is not None or state["started"] is None:
            return
        wall = time.perf_counter() - state["started"]
        state["result"] = {
            "audit_s": wall, "max_gap_ms": state["max_gap"] * 1000, "ticks": state["ticks"],
            "expected_ticks": int(wall * 1000 / PROBE_MS), "keys": state.get("keys"),
            "checked": outcome.checked, "failures": len(outcome.failures), "error": outcome.error,
            "cancelled": outcome.cancelled,
            "maxrss_kb": peak_rss_kb(),
            "maxrss_at_start_kb": state["maxrss_at_start_kb"],
            "child_maxrss_kb": _child_peak_kb(state["services"]),
            "cpu_s": time.process_time() - state["cpu_at_start"],
            "long_gaps": sorted(state["long_gaps"], key=lambda g: -g[1])[:5],
            "gc_pauses": sorted(state["gc_pauses"], key=lambda g: -g[1])[:5],
            "child_cpu_s": _child_cpu_s(state["services"]),
            "spawn_ms": getattr(state["services"].app.runtime._exchanges, "spawn_s", 0.0) * 1000,
            # Where ccxt ran: with the exchange process it must never load in the window's own process.
            "ccxt_in_gui": "ccxt" in sys.modules,
        }
        state["done"] = True
        _snapshot("finish")
        sys.stdout.write("BENCH_RESULT " + json.dumps(state["result"]) + "\n")
        sys.stdout.flush()
        app.exit(0)

    def hook() -> None:
        # The window is built inside keyhygiene.app.run: find it once it exists, before its first paint.
        if state["hooked"]:
            return
        for w in QApplication.topLevelWidgets():
            services = getattr(w, "services", None)
            if services is not None and hasattr(services, "auditFinished"):
                state["services"] = services
                services.auditStarted.connect(on_started)
                services.auditFinished.connect(on_finished)
                state["hooked"] = True
                finder.stop()
                return

    finder = QTimer()
    finder.setInterval(0)
    finder.timeout.connect(hook)
    finder.start()

    def give_up() -> None:
        sys.stderr.write(f"app_audit: no finished audit after {timeout_s:.0f} s\n")
        app.exit(3)

    QTimer.singleShot(int(timeout_s * 1000), give_up)
    args = ["gui", "--data-dir", data_dir]
    for e in endpoint_args:
        args += ["--endpoint", e]
    code = cli.main(args)
    probe.stop()
    if state["result"] is None:
        return code or 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
