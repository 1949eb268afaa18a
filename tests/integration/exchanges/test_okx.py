"""OKX through real ccxt against the simulator: every documented field, every error code, tampered requests."""

from __future__ import annotations

import dataclasses

import pytest

from keyhygiene.core.models import Status
from tests.helpers.sim_force import json_of, raw_request, sync_client
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_forced, inspect_sync

EX = "okx"
ALL_TRADE = ["futures_trade", "margin_trade", "options_trade", "spot_trade"]


def test_trade_right_lists_every_market_it_covers(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade"}, ip_whitelist=["203.0.113.10", "198.51.100.7"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == sorted(["read", "transfer", *ALL_TRADE])
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10", "198.51.100.7"]
    assert p.is_master is True and p.account_id == key.uid
    # OKX does not report these.
    assert p.created_at is None and p.expires_at is None and p.trade_expires_at is None
    assert p.third_party_link is None and p.last_used_at is None


def test_read_only_sub_account_key(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, is_master=False, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"]
    assert p.is_master is False
    assert p.ip_restricted is False and p.ip_whitelist == []


def test_withdraw_without_ip_gets_the_inactivity_note(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "withdraw"}, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.permissions == ["read", "withdraw"]
    # Issue 15 item 3: the rule is in OKX's docs-v5 now: no "not confirmed" wording.
    assert any("14 days" in n and "OKX's docs" in n for n in p.notes)
    assert not any("confirmed" in n or "reported to" in n for n in p.notes)


def test_unknown_perm_token_reaches_other(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, raw={"perm": "read_only,brand_new"}))
    p = inspect_sync(sim, key)
    assert p.permissions == ["read"] and p.other == ["brand_new"]


def test_wrong_passphrase_and_wrong_secret_are_told_apart(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), passphrase="Pp-not-the-one"))
    assert p.status is Status.INVALID_PASSPHRASE, p.message
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), secret=make_key(EX).secret))
    assert p.status is Status.INVALID_SIGNATURE, p.message


def test_tampered_path_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    signed = sync_client(EX, creds_of(key), sim.endpoints[EX]).sign("account/config", ["private"], "GET", {})
    status, text = raw_request(signed["url"] + "?ccy=BTC", headers=signed["headers"])
    assert (status, json_of(text)["code"]) == (401, "50113")
    status, text = raw_request(signed["url"], headers=signed["headers"])
    assert status == 200 and json_of(text)["code"] == "0"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid_key", Status.INVALID_KEY, "50111"),
        ("bad_signature", Status.INVALID_SIGNATURE, "50113"),
        ("bad_passphrase", Status.INVALID_PASSPHRASE, "50105"),
        ("ip_not_allowed", Status.IP_NOT_ALLOWED, "50110"),
        ("permission_denied", Status.PERMISSION_DENIED, "50120"),
        ("clock_skew", Status.CLOCK_SKEW, "50102"),
        ("missing_header", Status.REJECTED, "50103"),
    ],
)
def test_each_error_code_gives_its_status(sim, monkeypatch, kind, status, code) -> None:  # type: ignore[no-untyped-def]
    assert json_of(sim.handlers[EX].error(kind).text)["code"] == code
    _key, p = inspect_forced(sim, monkeypatch, EX, kind)
    assert p.status is status, p.message


def test_ip_not_in_whitelist_end_to_end(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, ip_whitelist=["198.51.100.99"]))
    assert inspect_sync(sim, key).status is Status.IP_NOT_ALLOWED
