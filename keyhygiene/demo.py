"""The demo environment (DESIGN.md §9): a temporary data dir, an in-memory keychain and the loopback exchange
simulator, filled with sample keys that show every kind of finding. Nothing touches the user's vault, keychain
or the network: every exchange, simulated or not, is pointed at loopback.

Secrets are generated fresh on every start (never shipped in the source).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from keyhygiene.core.exchange_facts import SUPPORTED
from keyhygiene.core.models import Credentials
from keyhygiene.core.permissions import DECLARED_BEYOND_READ
from keyhygiene.core.timeutil import utcnow
from keyhygiene.core.validation import ServiceRef
from keyhygiene.paths import AppPaths, app_paths, resource
from keyhygiene.store.memory_keyring import MemoryKeyring

log = logging.getLogger(__name__)

# Where exchanges without a simulated endpoint are sent in the demo: a loopback port nothing listens on, so an
# inspection fails fast as "unreachable" instead of ever reaching a real exchange.
BLACKHOLE = "http://127.0.0.1:9"
# Stands for "the public IP of this computer" in sample whitelists; replaced by the simulator's client IP, so the
# IP-restricted sample keys are usable from here, as they would be for a real user.
HOME = "<this computer>"


@dataclass(frozen=True)
class DemoKey:
    """One sample key. ``exchanges`` lists where it should live, best first; the first simulated one is used."""

    exchanges: tuple[str, ...]
    label: str
    purpose: str
    permissions: frozenset[str]
    created: date | int | None = None  # as the exchange reports it: a date, or days ago
    declared_created: date | int | None = None  # as the user entered it
    shared_with: tuple[tuple[str, date | int | None], ...] = ()  # (service, date or days ago)
    ended: tuple[tuple[str, date | int | None, int], ...] = ()  # (service, shared, ended days ago)
    ip_whitelist: tuple[str, ...] = ()
    expires_in_days: int | None = None
    trade_expires_in_days: int | None = None
    is_master: bool = True
    third_party_link: str | None = None
    revoked: bool = False
    note: str | None = None


SAMPLES: tuple[DemoKey, ...] = (
    DemoKey(("binance",), "3Commas DCA bot", "bot", frozenset({"read", "spot_trade"}),
            created=date(2022, 3, 14), shared_with=(("3commas", date(2022, 3, 14)),),
            note="Set up for the DCA bot in spring 2022"),
    DemoKey(("kucoin", "bybit", "binance"), "Arbitrage script", "trading",
            frozenset({"read", "spot_trade", "withdraw"}), created=200),
    DemoKey(("kraken", "coinbase", "binance"), "Koinly tax export", "tax", frozenset({"read"}),
            created=41, shared_with=(("koinly", 41),), ip_whitelist=()),
    DemoKey(("okx", "binance"), "Swing trading (old)", "trading",
            frozenset({"read", "spot_trade", "margin_trade", "futures_trade", "options_trade"}),
            created=760, ip_whitelist=(HOME, "198.51.100.23")),
    DemoKey(("bybit", "binance"), "Retired grid bot", "bot", frozenset({"read", "spot_trade"}),
            created=300, revoked=True, shared_with=(("pionex", 300),)),
    DemoKey(("bybit", "binance"), "Cornix signals", "bot", frozenset({"read", "futures_trade"}),
            created=80, expires_in_days=9, shared_with=(("wundertrading", 80),),
            third_party_link=None),
    DemoKey(("binance",), "Futures hedge (sub-account)", "trading", frozenset({"read", "futures_trade"}),
            created=25, ip_whitelist=(HOME, "203.0.113.8"), is_master=False),
    DemoKey(("coinbase", "binance"), "CoinStats portfolio", "read-only", frozenset({"read"}),
            created=400, shared_with=(("coinstats", 400),)),
    DemoKey(("bitget", "bybit"), "Copy trading", "bot", frozenset({"read", "futures_trade", "transfer"}),
            created=130, shared_with=(("zignaly", 130), ("wundertrading", 60))),
    DemoKey(("gate", "binance"), "Manual trading", "trading", frozenset({"read", "spot_trade"}),
            created=118, ip_whitelist=(HOME,)),
    DemoKey(("mexc", "binance"), "freqtrade on home server", "bot", frozenset({"read", "spot_trade"}),
            created=12, ip_whitelist=(HOME, "192.0.2.44"), shared_with=(("freqtrade", 12),)),
    DemoKey(("htx", "bybit"), "Old Cryptohopper link", "bot", frozenset({"read", "spot_trade"}),
            created=610, ended=(("cryptohopper", 610, 200),)),
)


@dataclass
class DemoEnvironment:
    paths: AppPaths
    keyring: MemoryKeyring
    endpoints: dict[str, str]
    key_count: int
    _tmp: Path
    # The demo's "exchange API page" per simulated exchange: a page the simulator serves on loopback.
    key_pages: dict[str, str] = field(default_factory=dict)
    _sim_thread: object | None = None
    _closed: bool = field(default=False)

    def key_page(self, exchange: str) -> str | None:
        """Where the demo's wizard sends "Open <exchange>'s API page": the simulator's page, or nowhere; never the
        exchange's real website."""
        return self.key_pages.get(exchange)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        stop = getattr(self._sim_thread, "stop", None)
        if callable(stop):
            try:
                stop()
            except Exception:
                log.exception("demo simulator did not stop cleanly")
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> DemoEnvironment:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _day(v: date | int | None, today: date) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return today - timedelta(days=v)


def start_demo(samples: Sequence[DemoKey] = SAMPLES, *, latency: float = 0.15) -> DemoEnvironment:
    """Create the demo data dir, keychain and simulator, and store the sample keys. Call ``close()`` at exit."""
    from keyhygiene.sim import SimKey, Simulator, SimulatorThread
    from keyhygiene.sim.credentials import new_credentials

    tmp = Path(tempfile.mkdtemp(prefix="keyhygiene-demo-"))
    # Everything the demo writes stays under tmp, which close() deletes: the sandbox makes the scanner hold to it.
    paths = dataclasses.replace(app_paths(tmp / "data"), sandbox=tmp)
    keyring = MemoryKeyring()
    sim = Simulator(latency=latency)
    now = utcnow()
    today = now.date()
    chosen: list[tuple[DemoKey, str, Credentials]] = []
    simulated = _simulated_exchanges()
    for s in samples:
        exchange = next((e for e in s.exchanges if e in simulated), None)
        if exchange is None:
            continue
        api_key, secret, passphrase, extra = new_credentials(exchange)
        created_day = _day(s.created, today)
        created = datetime.combine(created_day, time(9, 30), UTC) if created_day else None
        sim.add_key(SimKey(
            exchange=exchange, api_key=api_key, secret=secret, passphrase=passphrase, extra=dict(extra),
            permissions=set(s.permissions), created_at=created,
            ip_whitelist=[sim.client_ip if ip == HOME else ip for ip in s.ip_whitelist] or None,
            expires_at=now + timedelta(days=s.expires_in_days) if s.expires_in_days is not None else None,
            trade_expires_at=(now + timedelta(days=s.trade_expires_in_days)
                              if s.trade_expires_in_days is not None else None),
            is_master=s.is_master, third_party_link=s.third_party_link, revoked=s.revoked,
        ))
        chosen.append((s, exchange, Credentials(api_key=api_key, secret=secret, passphrase=passphrase,
                                                extra=dict(extra))))
    try:
        _write_scan_samples(paths, sim, simulated, today)
    except (OSError, ValueError):
        log.exception("demo sample files could not be prepared; the scanner will have nothing of its own to show")
    thread = SimulatorThread(sim)
    try:
        thread.start()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    endpoints = {ex: BLACKHOLE for ex in SUPPORTED}
    endpoints.update(sim.endpoints)
    env = DemoEnvironment(paths=paths, keyring=keyring, endpoints=endpoints, key_count=len(chosen), _tmp=tmp,
                          _sim_thread=thread, key_pages=sim_key_pages(sim))
    try:
        _store(env, chosen, today)
    except BaseException:
        env.close()
        raise
    return env


def sim_key_pages(sim: object) -> dict[str, str]:
    """The simulator's own API-management page (its console) for each exchange it simulates: loopback only."""
    from keyhygiene.sim.console import console_url

    endpoints: dict[str, str] = dict(getattr(sim, "endpoints", {}) or {})
    return {exchange: console_url(base, exchange) for exchange, base in endpoints.items()}


def _write_scan_samples(paths: AppPaths, sim: object, simulated: set[str], today: date) -> None:
    """Copy the shipped sample bot configs (resources/demo/scan) into the demo's folder with fresh, made-up
    credentials the simulator knows, so scan, import, audit and clean-up all work on them without touching a
    file of the user's. The shipped files hold only ``{{…}}`` markers, never a key-shaped value."""
    from keyhygiene.sim import SimKey
    from keyhygiene.sim.credentials import new_credentials

    source = resource("demo", "scan")
    target = paths.demo_samples
    assert target is not None
    manifest = json.loads((source / "samples.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        exchange = next((e for e in entry["exchanges"] if e in simulated), None)
        if exchange is None:
            continue
        api_key, secret, passphrase, extra = new_credentials(exchange)
        text = (source / entry["file"]).read_text(encoding="utf-8")
        for marker, value in (("{{exchange}}", exchange), ("{{EXCHANGE}}", exchange.upper()),
                              ("{{api_key}}", api_key), ("{{secret}}", secret), ("{{passphrase}}", passphrase or "")):
            text = text.replace(marker, value)
        out = target / entry["file"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        created = datetime.combine(today - timedelta(days=int(entry.get("created_days", 30))), time(9, 30), UTC)
        sim.add_key(SimKey(  # type: ignore[attr-defined]
            exchange=exchange, api_key=api_key, secret=secret, passphrase=passphrase, extra=dict(extra),
            permissions=set(entry["permissions"]), created_at=created, ip_whitelist=None,
            expires_at=None, trade_expires_at=None, is_master=True, third_party_link=None, revoked=False,
        ))


def _simulated_exchanges() -> set[str]:
    from keyhygiene.sim.server import Simulator

    supported = getattr(Simulator, "EXCHANGES", None) or getattr(Simulator, "supported", None)
    if supported:
        return set(supported() if callable(supported) else supported)
    import pkgutil

    from keyhygiene.sim import exchanges

    return {m.name for m in pkgutil.iter_modules(exchanges.__path__) if not m.name.startswith("_")}


def _store(env: DemoEnvironment, chosen: list[tuple[DemoKey, str, Credentials]], today: date) -> None:
    from keyhygiene.core.registry import default_resolver
    from keyhygiene.service.app import open_local_vault

    vault = open_local_vault(env.paths, backend=env.keyring, service_resolver=default_resolver())
    try:
        for s, exchange, creds in chosen:
            day = _day(s.declared_created, today)
            declared = datetime.combine(day, datetime.min.time(), UTC) if day else None
            rec = vault.add_key(
                exchange, s.label, creds, purpose=s.purpose,
                shared_with=[ServiceRef(service=svc, day=_day(d, today)) for svc, d in s.shared_with],
                created_at=declared, note=s.note,
                # MEXC does not say what a key may do beyond reading: the demo user declared it, as a user would.
                declared_permissions=sorted(s.permissions) if exchange in DECLARED_BEYOND_READ else None,
            )
            for svc, shared, ended in s.ended:
                vault.share(rec.id, ServiceRef(service=svc, day=_day(shared, today)))
                vault.unshare(rec.id, ServiceRef(service=svc, day=today - timedelta(days=ended)))
    finally:
        vault.close()
