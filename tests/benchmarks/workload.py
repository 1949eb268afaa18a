"""What the benchmarks run against: simulated keys, a vault holding them, the simulator in its own process.

Secrets are generated fresh for the loopback simulator on every run and cross process boundaries only through
pipes (never argv, never a file): the simulator reads its keys on stdin (``--keys /dev/stdin``), the app's
keychain entries go to ``bench_keyring.BenchKeyring`` through an inherited pipe.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.paths import app_paths
from keyhygiene.sim.credentials import new_credentials
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.server import DEFAULT_CLIENT_IP
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import ServiceRef, Vault

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# A realistic mix: mostly trading and bot keys, some read-only; a few with withdraw; some IP-restricted.
PERMISSION_MIX: tuple[frozenset[str], ...] = (
    frozenset({"read", "spot_trade"}),
    frozenset({"read"}),
    frozenset({"read", "spot_trade", "futures_trade"}),
    frozenset({"read", "spot_trade", "withdraw"}),
    frozenset({"read", "spot_trade", "margin_trade", "transfer"}),
)
PURPOSE_MIX = ("bot", "tax", "trading", "trading", "other")
SERVICES = ("3commas", "koinly", "cryptohopper", "pionex", "coinstats", "wundertrading", "freqtrade")


def spread(n: int, exchanges: Sequence[str] = SUPPORTED) -> list[str]:
    """``n`` keys spread evenly over the exchanges, interleaved (the order a vault lists keys in is arbitrary;
    interleaving is also the kindest order for a one-at-a-time baseline, so its time is not inflated)."""
    return [exchanges[i % len(exchanges)] for i in range(n)]


def make_keys(n: int, exchanges: Sequence[str] = SUPPORTED) -> list[SimKey]:
    now = datetime.now(UTC)
    keys = []
    for i, ex in enumerate(spread(n, exchanges)):
        api_key, secret, passphrase, extra = new_credentials(ex)
        keys.append(SimKey(
            exchange=ex, api_key=api_key, secret=secret, passphrase=passphrase, extra=dict(extra),
            permissions=set(PERMISSION_MIX[i % len(PERMISSION_MIX)]),
            ip_whitelist=[DEFAULT_CLIENT_IP] if i % 3 == 0 else None,
            created_at=now - timedelta(days=20 + (i * 37) % 900),
        ))
    return keys


def counts(keys: Sequence[SimKey]) -> dict[str, int]:
    return dict(Counter(k.exchange for k in keys))


def creds_of(k: SimKey) -> Credentials:
    return Credentials(api_key=k.api_key, secret=k.secret, passphrase=k.passphrase, extra=dict(k.extra))


def keys_json(keys: Sequence[SimKey]) -> bytes:
    """The simulator CLI's ``--keys`` document (``keyhygiene.sim.__main__.load_keys``)."""
    out = []
    for k in keys:
        out.append({
            "exchange": k.exchange, "api_key": k.api_key, "secret": k.secret, "passphrase": k.passphrase,
            "extra": k.extra, "permissions": sorted(k.permissions), "ip_whitelist": k.ip_whitelist,
            "created_at": k.created_at.isoformat() if k.created_at else None,
        })
    return json.dumps(out).encode("utf-8")


# ---- the simulator as a separate process, like a real exchange ----------------------------------------------------
@dataclass
class SimProcess:
    proc: subprocess.Popen[bytes]
    endpoints: dict[str, str]


@contextmanager
def sim_process(keys: Sequence[SimKey], latency: float) -> Iterator[SimProcess]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyhygiene.sim", "--keys", "/dev/stdin", "--latency", str(latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env(), cwd=REPO,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(keys_json(keys))
        proc.stdin.close()
        endpoints: dict[str, str] = {}
        for raw in proc.stdout:
            line = raw.decode().strip()
            if line.startswith("KEYHYGIENE_ENDPOINTS="):
                break
            ex, _, url = line.partition("=")
            endpoints[ex] = url
        if len(endpoints) < len(SUPPORTED):
            raise RuntimeError(f"the simulator started only {sorted(endpoints)} (exit code {proc.poll()})")
        yield SimProcess(proc, endpoints)
    finally:
        stop_process(proc, signal.SIGINT)


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KEYHYGIENE_DATA_DIR", "KEYHYGIENE_ENDPOINTS", "PYTHON_KEYRING_BACKEND")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


# ---- a vault with stored keys --------------------------------------------------------------------------------------
def profile_of(k: SimKey, i: int) -> KeyProfile:
    """What an earlier audit would have recorded for this key (the window and reports show it)."""
    failed = i % 17 == 5
    return KeyProfile(
        exchange=k.exchange, key=mask_key(k.api_key),
        status=Status.INVALID_KEY if failed else Status.OK,
        message="The exchange does not know this API key." if failed else None,
        permissions=[] if failed else sorted(k.permissions),
        ip_restricted=None if failed else bool(k.ip_whitelist),
        ip_whitelist=list(k.ip_whitelist) if k.ip_whitelist else None,
        created_at=k.created_at, is_master=True,
    )


def build_vault(data_dir: Path, keys: Sequence[SimKey], *, inspections: bool = True,
                prefs: dict[str, object] | None = None) -> dict[tuple[str, str], str]:
    """Store ``keys`` in a vault at ``data_dir``; returns the keychain entries (for ``BenchKeyring``)."""
    backend = MemoryKeyring()
    today = date.today()
    with Vault(app_paths(data_dir), backend=backend) as vault:
        for i, k in enumerate(keys):
            shared = []
            if i % 4 == 0:
                shared.append(ServiceRef(service=SERVICES[i % len(SERVICES)], day=today - timedelta(days=30 + i)))
            if i % 20 == 0:
                shared.append(ServiceRef(service="3commas", day=date(2022, 5, 1)))
            rec = vault.add_key(
                k.exchange, f"{k.exchange} key {i:03d}", creds_of(k), purpose=PURPOSE_MIX[i % len(PURPOSE_MIX)],
                shared_with=shared, created_at=k.created_at,
            )
            if inspections:
                vault.repo.record_inspection(rec.id, profile_of(k, i), datetime.now(UTC) - timedelta(days=2))
        if prefs:
            from keyhygiene.ui.services import PREFS_SETTING

            current = vault.repo.get_setting(PREFS_SETTING) or {}
            vault.repo.set_setting(PREFS_SETTING, {**current, **prefs})
    return backend.entries()


class EntriesPipe:
    """A pipe the child inherits, fed with the keychain entries by a thread (a pipe holds only 64 KB, and the
    app reads it only when it first touches the keychain)."""

    def __init__(self, payload: bytes) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self._payload = payload
        self._thread = threading.Thread(target=self._feed, name="bench-keyring-feed", daemon=True)

    def _feed(self) -> None:
        try:
            with os.fdopen(self.write_fd, "wb") as fh:
                fh.write(self._payload)
        except (BrokenPipeError, OSError):
            pass  # the child ended before reading its keychain (e.g. killed after its first paint)

    def started(self) -> EntriesPipe:
        """Call once the child holds its copy of the read end."""
        os.close(self.read_fd)
        self._thread.start()
        return self

    def join(self) -> None:
        self._thread.join(10)
