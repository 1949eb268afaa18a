"""HTX through real ccxt against the simulator: uid lookup, every field, every status, and a signature that
names the host the request was sent to."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.client import capture_of, create_client
from keyhygiene.exchanges.htx import HtxAdapter
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.exchanges.readonly import Allowlist
from tests.helpers.signed_requests import capture, send
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_in_setup, inspect_sync

EX = "htx"
CREATED = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
ALL_TRADE = ["futures_trade", "margin_trade", "options_trade", "spot_trade"]


def test_every_field_is_mapped(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "withdraw"},
                               ip_whitelist=["203.0.113.10", "198.51.100.0/24"], created_at=CREATED))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == sorted(["read", "transfer", "withdraw", *ALL_TRADE])
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10", "198.51.100.0/24"]
    assert p.created_at == CREATED
    assert p.expires_at is None  # IP-bound: validDays -1
    assert p.is_master is True and p.trade_expires_at is None and p.third_party_link is None
    assert sim.request_count(EX, "/v2/user/uid") >= 1


def test_unbound_key_expires_90_days_after_creation(sim) -> None:  # type: ignore[no-untyped-def]
    created = utcnow() - timedelta(days=30)
    key = sim.add_key(make_key(EX, permissions={"read"}, ip_whitelist=None, created_at=created))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"] and p.ip_restricted is False and p.ip_whitelist == []
    assert p.expires_at is not None
    assert abs(p.expires_at - (created + timedelta(days=90))) <= timedelta(days=1, minutes=1)


def test_uid_from_the_credentials_skips_the_lookup(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, uid="424242"))
    before = sim.request_count(EX, "/v2/user/uid")
    creds = dataclasses.replace(creds_of(key), extra={"uid": "424242"})
    p = inspect_sync(sim, key, creds=creds)
    assert p.status is Status.OK, p.message
    assert sim.request_count(EX, "/v2/user/uid") == before


def test_the_signature_names_the_host_contacted(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    port = urlsplit(sim.endpoints[EX]).port
    # Another spelling of the same loopback host: the client signs "localhost:<port>" and the server checks it.
    p = asyncio.run(inspect_key(EX, creds_of(key), endpoints={EX: f"http://localhost:{port}"}))
    assert p.status is Status.OK, p.message

    async def sign_for_the_wrong_host() -> tuple[Status, str] | None:
        adapter = HtxAdapter()
        client = create_client(EX, creds_of(key), endpoint=sim.endpoints[EX], allowlist=Allowlist(adapter.allowed()))
        client.hostname = "api.huobi.pro"  # signs the real host while talking to the simulator
        try:
            await adapter.fetch(client, creds_of(key))
        except Exception as exc:  # noqa: BLE001
            cap = capture_of(client)
            return adapter.classify(cap.status, errors.decode_body(cap.body), exc)
        finally:
            await client.close()
        return None

    mapped = asyncio.run(sign_for_the_wrong_host())
    assert mapped is not None and mapped[0] is Status.INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        ("unknown", Status.INVALID_KEY),
        ("wrong_secret", Status.INVALID_SIGNATURE),
        ("ip", Status.IP_NOT_ALLOWED),
        ("no_read", Status.PERMISSION_DENIED),
        ("sub_user", Status.PERMISSION_DENIED),
        ("expired", Status.INVALID_KEY),
        ("rate_limited", Status.RATE_LIMITED),
    ],
)
def test_each_status_with_htx_own_error(sim, setup: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    kw = {
        "ip": {"ip_whitelist": ["198.51.100.99"]},
        "no_read": {"permissions": {"spot_trade"}},
        "sub_user": {"is_master": False},
        "expired": {"expires_at": utcnow() - timedelta(days=1)},
    }.get(setup, {})
    _key, p = inspect_in_setup(sim, EX, setup, **kw)
    assert p.status is status, p.message
    if setup == "sub_user":
        assert "parent-user" in p.message


def test_clock_skew_is_resynced_from_common_timestamp(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.inject_fault(EX, "clock_skew")
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert sim.request_count(EX, "/v1/common/timestamp") >= 1


def test_tampered_request_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    req = capture(EX, creds_of(key), sim.endpoints[EX],
                  lambda c: c.v2private_get_user_api_key({"uid": key.uid, "accessKey": key.api_key}))
    status, body = send(req)
    assert status == 200 and body["code"] == 200 and len(body["data"]) == 1
    for tampered in (req.with_(url=req.url.replace(f"uid={key.uid}", "uid=1")),
                     req.with_(url=req.url.replace("/v2/user/api-key", "/v2/user/uid"))):
        status, body = send(tampered)
        assert body["err-code"] == "api-signature-not-valid" and "校验失败" in body["err-msg"], body
