"""MEXC through real ccxt against the simulator. MEXC documents no read that describes a key, so the adapter reads
GET /api/v3/account; its apiKeyInfo POST overwrites a key's IP whitelist and must never be reachable."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.exchanges.client import create_client
from keyhygiene.exchanges.mexc import MexcAdapter
from keyhygiene.exchanges.readonly import Allowlist, ReadOnlyViolation
from tests.helpers.signed_requests import capture, send
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_in_setup, inspect_sync

EX = "mexc"


def test_what_mexc_says_and_what_it_does_not(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "withdraw"}, ip_whitelist=["203.0.113.10"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    # canTrade/canWithdraw describe the account: the key is only proven to read (issue 15 item 2).
    assert (p.permissions, p.other, p.permissions_source) == (["read"], [], "unknown")
    assert p.account_facts == {"canTrade": True, "canWithdraw": True, "canDeposit": True, "accountType": "SPOT",
                               "permissions": ["SPOT"]}
    # Not reported for the calling key: null, never a guess.
    assert (p.ip_restricted, p.ip_whitelist, p.created_at, p.expires_at, p.trade_expires_at, p.is_master,
            p.third_party_link) == (None,) * 7
    assert any("90 days" in n for n in p.notes)


def test_read_only_key(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK and p.permissions == ["read"]
    assert p.account_facts["canWithdraw"] is False


def test_declared_permissions_are_shown_as_declared(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "withdraw"}))
    p = inspect_sync(sim, key, declared_permissions=["spot_trade"])
    assert (p.permissions, p.permissions_source) == (["read", "spot_trade"], "declared")


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        ("unknown", Status.INVALID_KEY),  # 10072: ccxt raises BadRequest
        ("wrong_secret", Status.REJECTED),  # 700002: also MEXC's answer for an expired key
        ("ip", Status.IP_NOT_ALLOWED),  # 700006: ccxt raises BadRequest
        ("no_account_read", Status.PERMISSION_DENIED),  # 700007
        ("expired", Status.REJECTED),
        ("rate_limited", Status.RATE_LIMITED),
    ],
)
def test_each_status_with_mexc_own_code(sim, setup: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    kw = {
        "ip": {"ip_whitelist": ["198.51.100.99"]},
        "no_account_read": {"permissions": {"spot_trade"}},
        "expired": {"expires_at": utcnow() - timedelta(days=1)},
    }.get(setup, {})
    _key, p = inspect_in_setup(sim, EX, setup, **kw)
    assert p.status is status, p.message


def test_clock_skew_is_resynced_from_server_time(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.inject_fault(EX, "clock_skew")
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert sim.request_count(EX, "/api/v3/time") >= 1


def test_api_key_info_write_can_never_be_sent(sim) -> None:  # type: ignore[no-untyped-def]
    adapter = MexcAdapter()
    assert all("apiKeyInfo" not in ep.path for ep in adapter.allowed())
    key = sim.add_key(make_key(EX))
    before = sim.request_count(EX)

    async def attempt() -> list[str]:
        client = create_client(EX, creds_of(key), endpoint=sim.endpoints[EX], allowlist=Allowlist(adapter.allowed()))
        blocked = []
        try:
            for name, call in (
                ("post", lambda: client.spot_private_post_apikeyinfo({"apikey": key.api_key,
                                                                      "ipWhiteList": "1.1.1.1"})),
                ("get", lambda: client.spot_private_get_apikeyinfo()),
            ):
                try:
                    await call()
                except ReadOnlyViolation:
                    blocked.append(name)
        finally:
            await client.close()
        return blocked

    assert asyncio.run(attempt()) == ["post", "get"]
    assert sim.request_count(EX) == before


def test_tampered_request_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    req = capture(EX, creds_of(key), sim.endpoints[EX], lambda c: c.spot_private_get_account())
    status, body = send(req)
    assert status == 200 and "canTrade" in body
    other = sim.add_key(make_key(EX))
    for tampered in (req.with_(url=req.url.replace("recvWindow=5000", "recvWindow=6000")),
                     req.with_(headers={**req.headers, "X-MEXC-APIKEY": other.api_key})):
        status, body = send(tampered)
        assert body["code"] == 700002, body
