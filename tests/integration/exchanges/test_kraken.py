"""Kraken through real ccxt against the simulator: every documented field, nonces, errors, tampered requests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from tests.helpers.sim_force import json_of, raw_request, sync_client
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_forced, inspect_sync

EX = "kraken"


def signed_request(sim, key):  # type: ignore[no-untyped-def]
    return sync_client(EX, creds_of(key), sim.endpoints[EX]).sign("GetApiKeyInfo", ["private"], "POST", {})


def test_every_documented_field(sim) -> None:  # type: ignore[no-untyped-def]
    created = datetime(2026, 3, 3, 12, 48, 20, tzinfo=UTC)
    valid_until = utcnow() + timedelta(days=30)
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "withdraw"},
                               ip_whitelist=["203.0.113.10", "198.51.100.0/24"], created_at=created,
                               expires_at=valid_until))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["margin_trade", "read", "spot_trade", "withdraw"]
    assert p.other == ["close-trades"]
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10", "198.51.100.0/24"]
    assert p.created_at == created
    assert p.expires_at == valid_until
    assert p.last_used_at is not None
    assert p.is_master is None and p.third_party_link is None and p.trade_expires_at is None


def test_unrestricted_key_without_expiry(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.expires_at is None  # validUntil "0"


def test_every_documented_token_and_an_unknown_one(sim) -> None:  # type: ignore[no-untyped-def]
    tokens = ["query-funds", "add-funds", "withdraw-funds", "earn-funds", "query-open-trades", "query-closed-trades",
              "modify-trades", "close-trades", "query-ledger", "export-data", "create-ws-token",
              "add-withdraw-address", "update-withdraw-address", "brand-new-right"]
    key = sim.add_key(make_key(EX, raw={"permissions": tokens, "queryFrom": "1700000000"}))
    p = inspect_sync(sim, key)
    assert p.permissions == ["margin_trade", "read", "spot_trade", "withdraw"]
    assert p.other == sorted(["add-funds", "earn-funds", "close-trades", "create-ws-token", "add-withdraw-address",
                              "update-withdraw-address", "brand-new-right"])
    assert any("date range" in n for n in p.notes)


def test_wrong_secret_is_an_invalid_signature(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), secret=make_key(EX).secret))
    assert p.status is Status.INVALID_SIGNATURE, p.message


def test_tampered_body_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    signed = signed_request(sim, key)
    status, text = raw_request(signed["url"], "POST", signed["headers"], signed["body"] + "&otp=1")
    assert status == 200 and json_of(text)["error"] == ["EAPI:Invalid signature"]
    status, text = raw_request(signed["url"], "POST", signed["headers"], signed["body"])
    assert json_of(text)["error"] == []


def test_a_nonce_must_grow(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    later = signed_request(sim, key)
    # Sign a second request with a smaller nonce by hand: ccxt's nonce only grows.
    client = sync_client(EX, creds_of(key), sim.endpoints[EX])
    client.options["lastNonce"] = 0
    client.options["timeDifference"] = 60_000  # a nonce a minute behind
    earlier = client.sign("GetApiKeyInfo", ["private"], "POST", {})
    assert json_of(raw_request(later["url"], "POST", later["headers"], later["body"])[1])["error"] == []
    replay = raw_request(later["url"], "POST", later["headers"], later["body"])
    assert json_of(replay[1])["error"] == ["EAPI:Invalid nonce"]
    behind = raw_request(earlier["url"], "POST", earlier["headers"], earlier["body"])
    assert json_of(behind[1])["error"] == ["EAPI:Invalid nonce"]
    # …and ccxt's next nonce is larger again: a fresh inspection is fine.
    assert inspect_sync(sim, key).status is Status.OK


def test_a_larger_nonce_used_elsewhere_is_explained(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.handlers[EX].last_nonce[key.api_key] = 10**16  # another program uses microsecond nonces
    p = inspect_sync(sim, key)
    assert p.status is Status.CLOCK_SKEW
    assert p.message and "nonce" in p.message and "own key" in p.message


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("invalid_key", Status.INVALID_KEY, "EAPI:Invalid key"),
        ("expired", Status.INVALID_KEY, "EAPI:Invalid key"),
        ("bad_signature", Status.INVALID_SIGNATURE, "EAPI:Invalid signature"),
        ("clock_skew", Status.CLOCK_SKEW, "EAPI:Invalid nonce"),
        ("ip_not_allowed", Status.REJECTED, "EGeneral:Permission denied"),
        ("permission_denied", Status.REJECTED, "EGeneral:Permission denied"),
    ],
)
def test_each_error_gives_its_status(sim, monkeypatch, kind, status, error) -> None:  # type: ignore[no-untyped-def]
    assert json_of(sim.handlers[EX].error(kind).text)["error"] == [error]
    _key, p = inspect_forced(sim, monkeypatch, EX, kind)
    assert p.status is status, p.message


def test_ip_outside_the_allowlist_end_to_end(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, ip_whitelist=["198.51.100.99"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.REJECTED and p.message and "IP allowlist" in p.message
