"""Bitfinex through real ccxt against the simulator: every scope, every status, nonce order and signatures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.bitfinex import BitfinexAdapter
from keyhygiene.exchanges.client import capture_of, create_client
from keyhygiene.exchanges.readonly import Allowlist
from tests.helpers.signed_requests import capture, send
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_in_setup, inspect_sync

EX = "bitfinex"


def test_every_scope_is_mapped(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "transfer", "withdraw"},
                               raw={"funding": [1, 1], "bfxpay": [1, 1]}))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    # Orders write covers exchange, margin and derivative orders.
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.other == ["bfxpay.write", "funding.write"]
    # Bitfinex says nothing about IPs, dates, master/sub or third parties through this endpoint.
    assert (p.ip_restricted, p.ip_whitelist, p.created_at, p.expires_at, p.trade_expires_at, p.is_master,
            p.third_party_link) == (None,) * 7


def test_positions_write_alone_is_margin_and_derivatives(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, raw={"positions": [1, 1], "newscope": [0, 1]}))
    p = inspect_sync(sim, key)
    assert p.permissions == ["futures_trade", "margin_trade", "read"]
    assert p.other == ["newscope.write"]


@pytest.mark.parametrize(
    ("setup", "status"),
    [("unknown", Status.REJECTED), ("wrong_secret", Status.REJECTED), ("ip", Status.REJECTED),
     ("expired", Status.REJECTED), ("rate_limited", Status.RATE_LIMITED)],
)
def test_each_status_with_bitfinex_own_error(sim, setup: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    kw = {"ip": {"ip_whitelist": ["198.51.100.99"]},
          "expired": {"expires_at": utcnow() - timedelta(days=1)}}.get(setup, {})
    _key, p = inspect_in_setup(sim, EX, setup, **kw)
    assert p.status is status, p.message
    if status is Status.REJECTED:
        assert "apikey: invalid" in p.message


def test_clock_skew_does_not_matter_to_bitfinex(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.inject_fault(EX, "clock_skew")
    assert inspect_sync(sim, key).status is Status.OK


def test_a_nonce_that_does_not_increase_is_refused(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    assert inspect_sync(sim, key).status is Status.OK

    async def with_small_nonce() -> tuple[Status, str] | None:
        adapter = BitfinexAdapter()
        client = create_client(EX, creds_of(key), endpoint=sim.endpoints[EX], allowlist=Allowlist(adapter.allowed()))
        client.nonce = lambda: 1  # e.g. another program already used larger nonces for this key
        try:
            await adapter.fetch(client, creds_of(key))
        except Exception as exc:  # noqa: BLE001
            cap = capture_of(client)
            return adapter.classify(cap.status, errors.decode_body(cap.body), exc)
        finally:
            await client.close()
        return None

    mapped = asyncio.run(with_small_nonce())
    assert mapped is not None and mapped[0] is Status.CLOCK_SKEW and "nonce" in mapped[1]


def test_replayed_and_tampered_requests_are_refused(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    req = capture(EX, creds_of(key), sim.endpoints[EX], lambda c: c.private_post_auth_r_permissions())
    status, body = send(req)
    assert status == 200 and isinstance(body, list) and body[0][0] == "account"
    assert send(req) == (500, ["error", 10114, "nonce: small"])  # a replay reuses the nonce
    newer = str(int(req.headers["bfx-nonce"]) + 1000)
    for tampered in (req.with_(headers={**req.headers, "bfx-nonce": newer}),  # nonce outside the signature
                     req.with_(body='{"scope":"all"}')):
        assert send(tampered) == (500, ["error", 10100, "apikey: invalid"])
