#!/usr/bin/env python
"""Diagnosis, not a benchmark line: a timeline of team_audit's audits - the same 200 keys in a local vault and in a
team vault (a real OpenBao dev server), interleaved, as ``team_keys.audit`` runs them - to see where an audit's
time goes instead of guessing.

    PYTHONPATH=$PWD python tests/benchmarks/audit_timeline.py [--reps N]

Per audit, in seconds from its start: when the critical exchange's first-window requests left (1st/6th/10th), when
each exchange's last check ended, the tail after the last check, the team vault's secret reads and inspection
writes, the requests sent to the server by kind, the event loop's turns over 30 ms, collections over 5 ms, and the
CPU of this process, the bao server and the simulator. Everything is measured by wrapping the code it names (no
change to the code itself), so the figures carry a little instrumentation overhead on both sides alike.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import workload  # noqa: E402

LATENCY_S = 0.2
Event = tuple[str, float, float, Any]  # kind, start, end (s from the audit's start), detail
EVENTS: list[Event] = []
_lock = threading.Lock()
_t0 = [0.0]


def _log(kind: str, start: float, end: float, detail: Any = None) -> None:
    with _lock:
        EVENTS.append((kind, start - _t0[0], end - _t0[0], detail))


def _wrap(owner: Any, name: str, kind: str, detail: Any = lambda *a, **k: None) -> None:
    real = getattr(owner, name)
    if asyncio.iscoroutinefunction(real):
        async def timed_async(*a: Any, **k: Any) -> Any:
            s = time.perf_counter()
            try:
                return await real(*a, **k)
            finally:
                _log(kind, s, time.perf_counter(), detail(*a, **k))
        setattr(owner, name, timed_async)
    else:
        def timed(*a: Any, **k: Any) -> Any:
            s = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                _log(kind, s, time.perf_counter(), detail(*a, **k))
        setattr(owner, name, timed)


def _instrument() -> None:
    import aiohttp

    import keyhygiene.exchanges.audit_runner as runner
    import keyhygiene.exchanges.inspect as inspect_mod
    from keyhygiene.exchanges.client import shared_ssl_context
    from keyhygiene.store import team_http, team_secrets, team_vault

    _wrap(inspect_mod, "inspect_key", "check", lambda ex, *a, **k: ex)
    _wrap(team_secrets.TeamSecretStore, "get", "secret_read")
    _wrap(team_vault.TeamVault, "_publish_inspection", "write_back")
    _wrap(team_vault.TeamVault, "flush_publishing", "flush")
    _wrap(team_http.LeanSession, "_send", "server_request",
          lambda self, method, target, *a, **k: f"{method} {'/'.join(target.split('?')[0].split('/')[:5])}")

    def session() -> Any:
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(runner._mark_sent)

        async def sent(_s: Any, ctx: Any, _p: Any) -> None:
            ctx.kh_sent = time.perf_counter()

        async def ended(_s: Any, ctx: Any, params: Any) -> None:
            _log("request", getattr(ctx, "kh_sent", time.perf_counter()), time.perf_counter(),
                 (params.url.port, params.url.path))

        trace.on_request_headers_sent.append(sent)
        trace.on_request_end.append(ended)
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=shared_ssl_context(), limit=200,
                                                                    enable_cleanup_closed=True),
                                     trace_configs=[trace])

    runner._shared_session = session
    started: dict[str, float] = {}

    def collections_over_5ms(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["t"] = time.perf_counter()
        elif time.perf_counter() - started.get("t", time.perf_counter()) > 0.005:
            _log("collection", started["t"], time.perf_counter(), info.get("generation"))

    gc.callbacks.append(collections_over_5ms)


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


async def _watched(audit: Any) -> Any:
    """The audit, with a 1 ms ticker beside it: a tick late by over 30 ms is a long turn of the event loop."""
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            s = time.perf_counter()
            await asyncio.sleep(0.001)
            if time.perf_counter() - s > 0.03:
                _log("long_turn", s, time.perf_counter())

    tick = asyncio.create_task(ticker())
    try:
        return await audit
    finally:
        done.set()
        await tick


def _report(name: str, wall: float, critical: float, cpu: dict[str, float], ports: dict[int, str],
            critical_exchange: str) -> None:
    by: dict[str, list[Event]] = collections.defaultdict(list)
    for e in EVENTS:
        by[e[0]].append(e)
    print(f"{name:5s} wall {wall:.3f} s = {wall / critical:.3f}x; CPU: this process {cpu['self']:.2f} s, bao "
          f"{cpu['bao']:.2f} s, simulator {cpu['sim']:.2f} s")
    crit = sorted(e[1] for e in by["request"] if ports.get(e[3][0]) == critical_exchange and e[1] < 0.9)
    if len(crit) >= 10:
        print(f"      {critical_exchange}'s first-window requests left at {crit[0]:.3f} (1st) {crit[5]:.3f} (6th) "
              f"{crit[9]:.3f} (10th)")
    last_end: dict[str, float] = {}
    for e in by["check"]:
        last_end[e[3]] = max(last_end.get(e[3], 0.0), e[2])
    ends = sorted(last_end.items(), key=lambda kv: -kv[1])
    print("      last check ended: " + ", ".join(f"{ex} {t:.3f}" for ex, t in ends[:4]) +
          f"; tail after it {wall - ends[0][1]:.3f} s")
    reads = sorted(e[2] for e in by["secret_read"])
    if reads:
        tenth = reads[min(9, len(reads) - 1)]
        print(f"      secrets read: {len(reads)}, 10th by {tenth:.3f}, last by {reads[-1]:.3f}; "
              f"inspections written: {len(by['write_back'])}, last by {max(e[2] for e in by['write_back']):.3f}; "
              f"flush {sum(e[2] - e[1] for e in by['flush']) * 1000:.0f} ms")
        kinds = collections.Counter(e[3] for e in by["server_request"])
        print(f"      server requests: {sum(kinds.values())}: " + ", ".join(f"{k} x{v}" for k, v in kinds.items()))
    turns = [f"{e[1]:.2f}+{(e[2] - e[1]) * 1000:.0f}ms" for e in sorted(by["long_turn"])]
    print(f"      loop turns over 30 ms: {', '.join(turns) or 'none'}; collections over 5 ms: "
          f"{', '.join(f'{e[1]:.2f}+{(e[2] - e[1]) * 1000:.0f}ms gen{e[3]}' for e in by['collection']) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--keys", type=int, default=200)
    args = ap.parse_args(argv)

    import run as bench
    import team_keys

    from keyhygiene.exchanges.audit_runner import critical_path_seconds
    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
    from keyhygiene.service.audit import audit_async

    _instrument()
    keys = workload.make_keys(args.keys)
    rpk = bench._calibrate_requests_per_key()
    counts = workload.counts(keys)
    critical = critical_path_seconds(counts, LATENCY_S, requests_per_key=rpk)
    critical_exchange = max(counts, key=lambda e: critical_path_seconds({e: counts[e]}, LATENCY_S,
                                                                        requests_per_key=rpk))
    print(f"critical path {critical:.2f} s ({bench._bottleneck(counts, rpk)})")
    tmp = Path(tempfile.mkdtemp(prefix="keyhygiene-timeline-"))
    walls: dict[str, list[float]] = {"local": [], "team": []}
    with team_keys.team_and_local_vaults(tmp, keys) as (server, data, local_data):
        assert server.proc is not None
        for _ in range(args.reps):
            for name, d in (("local", local_data), ("team", data)):
                with workload.sim_process(keys, LATENCY_S) as sim, team.open_backend(app_paths(d)) as vault:
                    ports = {urlsplit(u).port: ex for ex, u in sim.endpoints.items()}
                    EVENTS.clear()
                    c0, b0, s0 = time.process_time(), _cpu_of(server.proc.pid), _cpu_of(sim.proc.pid)
                    _t0[0] = t0 = time.perf_counter()
                    asyncio.run(_watched(audit_async(vault, endpoints=sim.endpoints)))
                    wall = time.perf_counter() - t0
                    cpu = {"self": time.process_time() - c0, "bao": _cpu_of(server.proc.pid) - b0,
                           "sim": _cpu_of(sim.proc.pid) - s0}
                walls[name].append(wall)
                _report(name, wall, critical, cpu, ports, critical_exchange)
    for name, ws in walls.items():
        print(f"{name}: median {statistics.median(ws):.3f} s = {statistics.median(ws) / critical:.3f}x "
              f"({', '.join(f'{w:.3f}' for w in ws)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
