"""Bitget through real ccxt against the simulator: every documented field, every error code, tampered requests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from keyhygiene.core.models import Status
from tests.helpers.sim_force import json_of, raw_request, sync_client
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_forced, inspect_sync

EX = "bitget"


def test_every_right_and_the_ip_list(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "margin_trade", "futures_trade", "transfer",
                                                "withdraw"},
                               ip_whitelist=["203.0.113.10", "198.51.100.7"],
                               created_at=datetime(2024, 1, 2, tzinfo=UTC)))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10", "198.51.100.7"]
    assert p.is_master is True and p.account_id == key.uid


def test_account_registration_time_is_never_the_key_age(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, created_at=datetime(2024, 1, 2, tzinfo=UTC)))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.created_at is None  # the sim sends regisTime (2009); Bitget has no key creation time
    assert p.expires_at is None and p.trade_expires_at is None and p.third_party_link is None


def test_sub_account_key_without_ips(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, is_master=False, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.permissions == ["read"]
    assert p.is_master is False
    assert p.ip_restricted is False and p.ip_whitelist == []


def test_documented_legacy_example_values(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, raw={"authorities": ["trade", "readonly", "ttow", "newcode"],
                                        "userId": "**********", "parentId": 1}))
    p = inspect_sync(sim, key)
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade"]
    assert p.other == ["newcode", "ttow"]
    assert p.is_master is None  # masked user id: Bitget does not say
    assert any("legacy 'trade'" in n for n in p.notes)


def test_wrong_passphrase_and_wrong_secret(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), passphrase="Pp-not-the-one"))
    assert p.status is Status.INVALID_PASSPHRASE, p.message
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), secret=make_key(EX).secret))
    assert p.status is Status.INVALID_SIGNATURE, p.message


def test_tampered_path_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    signed = sync_client(EX, creds_of(key), sim.endpoints[EX]).sign("v2/spot/account/info", ["private", "spot"],
                                                                     "GET", {})
    status, text = raw_request(signed["url"] + "?coin=BTC", headers=signed["headers"])
    assert (status, json_of(text)["code"]) == (400, "40009")
    status, text = raw_request(signed["url"], headers=signed["headers"])
    assert status == 200 and json_of(text)["code"] == "00000"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid_key", Status.INVALID_KEY, "40006"),
        ("expired", Status.INVALID_KEY, "40037"),
        ("bad_signature", Status.INVALID_SIGNATURE, "40009"),
        ("bad_passphrase", Status.INVALID_PASSPHRASE, "40012"),
        ("ip_not_allowed", Status.IP_NOT_ALLOWED, "40018"),
        ("permission_denied", Status.PERMISSION_DENIED, "40014"),
        ("clock_skew", Status.CLOCK_SKEW, "40008"),
        ("missing_header", Status.REJECTED, "40001"),
    ],
)
def test_each_error_code_gives_its_status(sim, monkeypatch, kind, status, code) -> None:  # type: ignore[no-untyped-def]
    assert json_of(sim.handlers[EX].error(kind).text)["code"] == code
    _key, p = inspect_forced(sim, monkeypatch, EX, kind)
    assert p.status is status, p.message


def test_ip_not_in_whitelist_end_to_end(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, ip_whitelist=["198.51.100.99"]))
    assert inspect_sync(sim, key).status is Status.IP_NOT_ALLOWED
