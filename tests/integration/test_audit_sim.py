"""The audit over the loopback simulator: real ccxt calls, mixed latencies and faults, results as they arrive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from keyhygiene.core.models import Credentials, Status
from keyhygiene.core.registry import load_registry
from keyhygiene.service.audit import KeyAudit, audit_async
from keyhygiene.sim import SimKey, Simulator
from keyhygiene.store.vault import Vault
from tests.helpers.secrets_watch import find_leaks
from tests.helpers.simkeys import creds_of, make_key

SIM_IP = "203.0.113.10"  # the address the simulator says requests come from
EXCHANGES = ("binance", "bybit", "kucoin", "okx")


def store(vault: Vault, key: SimKey, label: str, **kw) -> str:  # type: ignore[no-untyped-def]
    c = creds_of(key)
    return vault.add_key(key.exchange, label, Credentials(c.api_key, c.secret, c.passphrase, c.extra), **kw).id


def test_slow_and_failing_exchanges_do_not_hold_up_the_others(vault: Vault) -> None:
    young = datetime.now(UTC) - timedelta(days=5)

    async def go() -> tuple[list[str], dict[str, KeyAudit], Simulator]:
        sim = Simulator(exchanges=EXCHANGES, enforce_rate_limits=False)
        await sim.start()
        try:
            ids: dict[str, list[str]] = {ex: [] for ex in EXCHANGES}
            for ex in EXCHANGES:
                for i in range(3):
                    k = sim.add_key(make_key(ex, permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                                             created_at=young))
                    ids[ex].append(store(vault, k, f"{ex}-{i}", purpose="bot"))
            sim.set_latency(3.0, "okx")  # one slow exchange
            sim.inject_fault("kucoin", "http_500")  # one failing exchange (every request)
            order: list[str] = []
            by_key: dict[str, KeyAudit] = {}

            def on_result(a: KeyAudit) -> None:
                order.append(a.key.exchange)
                by_key[a.key.id] = a

            result = await audit_async(vault, endpoints=sim.endpoints, registry=load_registry(),
                                       on_result=on_result)
            assert len(result.keys) == 12
        finally:
            await sim.stop()
        return order, by_key, sim

    order, by_key, sim = asyncio.run(go())
    assert len(by_key) == 12
    # Results arrive as each exchange answers: every fast exchange is done before the slow one reports.
    first_okx = order.index("okx")
    assert {"binance", "bybit"} <= set(order[:first_okx])
    assert order[first_okx:].count("okx") == 3
    for a in by_key.values():
        if a.key.exchange == "kucoin":
            assert a.profile.status is not Status.OK
            assert any(f.rule == "inspection_failed" for f in a.findings)
        else:
            assert a.profile.status is Status.OK, a.profile.message
            # Some exchanges grant one trade right for several markets (Binance spot+margin, OKX all kinds).
            assert "spot_trade" in a.profile.permissions and "withdraw" not in a.profile.permissions
            assert all(f.severity in ("info", "low") for f in a.findings), [(f.rule, f.severity) for f in a.findings]
    # Every result was recorded, failures included.
    for kid in by_key:
        assert vault.repo.latest_inspection(kid) is not None
    assert find_leaks() == []


def test_audit_reads_what_the_exchange_reports(vault: Vault) -> None:
    async def go() -> dict[str, KeyAudit]:
        sim = Simulator(exchanges=("binance", "bybit"), enforce_rate_limits=False)
        await sim.start()
        try:
            w = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "withdraw"}))
            link = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=[SIM_IP],
                                        third_party_link="Coinmatics"))
            gone = sim.add_key(make_key("binance"))
            ids = {"withdraw": store(vault, w, "withdraw"), "link": store(vault, link, "link"),
                   "gone": store(vault, gone, "gone")}
            sim.revoke(gone.api_key)
            result = await audit_async(vault, endpoints=sim.endpoints)
        finally:
            await sim.stop()
        by_id = {k.key.id: k for k in result.keys}
        return {name: by_id[kid] for name, kid in ids.items()}

    got = asyncio.run(go())
    w = got["withdraw"]
    assert w.profile.ip_restricted is False
    assert {f.rule: f.severity for f in w.findings}["no_ip_restriction"] == "critical"
    assert "withdraw your funds" in w.blast_radius
    assert any(f.rule == "third_party_link" for f in got["link"].findings)
    gone = got["gone"]
    assert gone.profile.status in (Status.INVALID_KEY, Status.REJECTED)
    assert any(f.rule == "key_rejected" for f in gone.findings)


def test_mexc_account_flags_never_become_the_key_permissions(vault: Vault) -> None:
    """Issue 15 item 2: MEXC's canWithdraw describes the account; a key withdraws only with SPOT_WITHDRAW_WRITE,
    which MEXC does not report. Only the user's declaration can give a MEXC key a withdraw finding."""

    async def go() -> dict[str, KeyAudit]:
        sim = Simulator(exchanges=("mexc",), enforce_rate_limits=False)
        await sim.start()
        try:
            flags = sim.add_key(make_key("mexc", permissions={"read", "spot_trade", "withdraw"}))
            declared = sim.add_key(make_key("mexc", permissions={"read", "spot_trade", "withdraw"}))
            ids = {"flags": store(vault, flags, "mexc flags"),
                   "declared": store(vault, declared, "mexc declared", declared_permissions=["read", "withdraw"])}
            result = await audit_async(vault, endpoints=sim.endpoints)
        finally:
            await sim.stop()
        by_id = {k.key.id: k for k in result.keys}
        return {name: by_id[kid] for name, kid in ids.items()}

    got = asyncio.run(go())
    flags = got["flags"]
    assert flags.profile.status is Status.OK, flags.profile.message
    assert flags.profile.account_facts["canWithdraw"] is True  # the exchange said so, of the account
    assert (flags.profile.permissions, flags.profile.permissions_source) == (["read"], "unknown")
    rules = {f.rule for f in flags.findings}
    assert "withdraw_enabled" not in rules and "permissions_unknown" in rules
    assert "withdraw" not in flags.blast_radius
    declared = got["declared"]
    assert (declared.profile.permissions, declared.profile.permissions_source) == (["read", "withdraw"], "declared")
    assert "withdraw_enabled" in {f.rule for f in declared.findings}
