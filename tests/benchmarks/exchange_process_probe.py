"""Diagnosis (issue 21, item 3): does the exchange work stall the GUI thread less in its own process than on a thread?

    python tests/benchmarks/exchange_process_probe.py thread|process [ROUNDS]
    python tests/benchmarks/exchange_process_probe.py once thread|process [KEYS]

Not a benchmark line and not the app: a fixed GUI load next to the app's real exchange code, so that only where
that code runs differs. The GUI thread runs a 5 ms probe timer and a 500-row table whose Python delegate paints
every cell (as the app's does), with 20 rows changed every 50 ms. Meanwhile ``audit_runner.inspect_many`` audits
200 keys over the 12 simulated exchanges (simulator in its own process, 200 ms latency, rate limits on) through
one of the app's exchange executors (service/exchange_executor.py), awaited on a loop thread of this process:
``thread`` (``InProcessExchanges``: ccxt imported and run in this process, sharing the GIL with the GUI, as the
window did before issue 21) or ``process`` (``ExchangeProcess``: the window's exchange process, credentials over its
pipe). Prints the longest gap of the probe and its 99th/95th percentiles.
``once MODE [KEYS]`` with PROBE_JSON=1 prints one JSON object (tests/gui/test_exchange_process_stall.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for p in (str(HERE.parent.parent), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import workload  # noqa: E402

ROWS, CHANGED, CHURN_MS, PROBE_MS, KEYS = 500, 20, 50, 5, 200


def measure(mode: str, n_keys: int = KEYS) -> dict[str, Any]:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QTableView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    model = QStandardItemModel(ROWS, 8)
    for r in range(ROWS):
        for c in range(8):
            model.setItem(r, c, QStandardItem(f"row {r} col {c}"))

    class Delegate(QStyledItemDelegate):
        def paint(self, painter: Any, option: Any, index: Any) -> None:
            index.data()  # a Python call per cell, as the app's CellDelegate makes
            super().paint(painter, option, index)

    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(Delegate(view))
    view.resize(1300, 800)
    view.show()
    state: dict[str, Any] = {"last": None, "gaps": [], "n": 0, "running": False}

    def tick() -> None:
        now = time.perf_counter()
        if state["running"] and state["last"] is not None:
            state["gaps"].append((now - state["last"]) * 1000)
        state["last"] = now

    def churn() -> None:
        state["n"] += 1
        for r in range(CHANGED):
            model.item((state["n"] * CHANGED + r) % (2 * CHANGED), 2).setText(f"changed {state['n']}")

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(tick)
    probe.start()
    churner = QTimer()
    churner.setInterval(CHURN_MS)
    churner.timeout.connect(churn)
    churner.start()
    keys = workload.make_keys(n_keys)
    result: dict[str, Any] = {}
    with workload.sim_process(keys, 0.2) as sim:
        def work() -> None:
            # The app's two executors (service/exchange_executor.py) on a loop thread of this process, as the app
            # runs them: "thread" imports ccxt and parses replies here, "process" in the app's exchange process.
            from keyhygiene.service.exchange_executor import ExchangeProcess, InProcessExchanges

            executor = InProcessExchanges() if mode == "thread" else ExchangeProcess()
            try:
                items = [(f"k{i}", k.exchange, workload.creds_of(k)) for i, k in enumerate(keys)]
                t0 = time.perf_counter()
                res = asyncio.run(executor.inspect_many(items, endpoints=sim.endpoints))
                result.update(wall=time.perf_counter() - t0, ok=sum(1 for p in res.values() if p.status == "ok"))
            finally:
                executor.close()
                state["running"] = False
                app.exit(0)

        def start() -> None:
            state["running"] = True
            threading.Thread(target=work, daemon=True, name="exchange-work").start()

        QTimer.singleShot(300, start)
        app.exec()
    probe.stop()
    churner.stop()
    gaps = sorted(state["gaps"])
    return {"mode": mode, "max_ms": gaps[-1], "p99_ms": gaps[int(len(gaps) * 0.99)],
            "p95_ms": gaps[int(len(gaps) * 0.95)], "over_33": sum(1 for g in gaps if g > 33), "ticks": len(gaps),
            "audit_s": result.get("wall"), "ok": result.get("ok"), "keys": n_keys}


def main(argv: list[str]) -> int:
    rounds = int(argv[1]) if len(argv) > 1 else 1
    for _ in range(rounds):
        # A fresh process per round, so ccxt is imported anew each time in "thread" mode (as in a fresh app).
        out = subprocess.run([sys.executable, __file__, "once", argv[0]], capture_output=True, text=True,
                             env=workload.child_env(), check=True)
        print(out.stdout.strip(), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "once":
        r = measure(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else KEYS)
        if os.environ.get("PROBE_JSON"):
            print(json.dumps(r))
            sys.exit(0)
        print(f"{r['mode']:<7} longest gap {r['max_ms']:6.1f} ms  p99 {r['p99_ms']:5.1f}  p95 {r['p95_ms']:5.1f}  "
              f"gaps over 33 ms {r['over_33']:3d} of {r['ticks']} ticks; audit {r['audit_s']:.2f} s, "
              f"{r['ok']} of {r['keys']} ok")
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
