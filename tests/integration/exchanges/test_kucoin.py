"""KuCoin through real ccxt against the simulator: every documented field, every error code, tampered requests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from keyhygiene.core.models import Status
from keyhygiene.sim.base import hmac_b64
from tests.helpers.sim_force import json_of, raw_request, sync_client
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_forced, inspect_sync

EX = "kucoin"
PATH = "/api/v1/user/api-key"


def test_master_key_with_every_right_and_masked_whitelist(sim) -> None:  # type: ignore[no-untyped-def]
    created = datetime(2024, 10, 9, 3, 17, 23, tzinfo=UTC)
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "margin_trade", "futures_trade", "transfer",
                                                "withdraw"},
                               ip_whitelist=["203.0.113.10", "198.51.100.7"], created_at=created))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.ip_restricted is True and p.ip_whitelist == ["203.**.10", "198.**.7"]  # KuCoin masks them
    assert p.created_at == created
    assert p.is_master is True and p.account_id == key.uid
    assert p.expires_at is None and p.trade_expires_at is None and p.third_party_link is None  # not reported


def test_sub_account_key_without_whitelist(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, is_master=False, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"] and p.other == []
    assert p.is_master is False
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert any("no IP whitelist" in n for n in p.notes)


def test_unknown_tokens_reach_other(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, raw={"permission": "General,Earn,SomethingNew"}))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"] and p.other == ["Earn", "SomethingNew"]


def test_wrong_passphrase(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), passphrase="Pp-not-the-one"))
    assert p.status is Status.INVALID_PASSPHRASE, p.message


def test_wrong_secret_shows_as_passphrase_error_with_an_explanation(sim) -> None:  # type: ignore[no-untyped-def]
    # Version-2 passphrases are signed with the secret, and KuCoin checks them before the signature.
    key = sim.add_key(make_key(EX))
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), secret=make_key(EX).secret))
    assert p.status is Status.INVALID_PASSPHRASE
    assert p.message and "secret" in p.message


def test_tampered_path_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    client = sync_client(EX, creds_of(key), sim.endpoints[EX])
    signed = client.sign("user/api-key", ["private"], "GET", {})
    status, text = raw_request(signed["url"] + "?extra=1", headers=signed["headers"])
    assert (status, json_of(text)["code"]) == (401, "400005")
    # The untampered request passes, so the failure above is the tampering.
    status, text = raw_request(signed["url"], headers=signed["headers"])
    assert status == 200 and json_of(text)["code"] == "200000"


def test_version_1_plain_passphrase_is_accepted_and_checked(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    client = sync_client(EX, creds_of(key), sim.endpoints[EX])
    signed = client.sign("user/api-key", ["private"], "GET", {})
    headers = {**signed["headers"], "KC-API-KEY-VERSION": "1", "KC-API-PASSPHRASE": key.passphrase}
    assert raw_request(signed["url"], headers=headers)[0] == 200
    headers["KC-API-PASSPHRASE"] = hmac_b64(key.secret, key.passphrase)  # the v2 form is wrong for v1
    status, text = raw_request(signed["url"], headers=headers)
    assert (status, json_of(text)["code"]) == (401, "400004")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid_key", Status.INVALID_KEY, "400003"),
        ("expired", Status.INVALID_KEY, "400003"),
        ("bad_signature", Status.INVALID_SIGNATURE, "400005"),
        ("bad_passphrase", Status.INVALID_PASSPHRASE, "400004"),
        ("ip_not_allowed", Status.IP_NOT_ALLOWED, "400006"),
        ("permission_denied", Status.PERMISSION_DENIED, "400007"),
        ("clock_skew", Status.CLOCK_SKEW, "400002"),
        ("missing_header", Status.REJECTED, "400001"),
    ],
)
def test_each_error_code_gives_its_status(sim, monkeypatch, kind, status, code) -> None:  # type: ignore[no-untyped-def]
    assert json_of(sim.handlers[EX].error(kind).text)["code"] == code
    _key, p = inspect_forced(sim, monkeypatch, EX, kind)
    assert p.status is status, p.message


def test_ip_not_in_whitelist_end_to_end(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, ip_whitelist=["198.51.100.99"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.IP_NOT_ALLOWED, p.message


def test_expiry_is_not_said_over_the_wire(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade"}, ip_whitelist=["203.0.113.10"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.expires_at is None and any("Expiry: the exchange does not say" in n for n in p.notes)
