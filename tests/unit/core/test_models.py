"""Shared dataclasses: what they print, serialise and never reveal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from keyhygiene.core.models import (
    AUTH_REJECTIONS,
    PURPOSES,
    Credentials,
    Exposure,
    Finding,
    KeyProfile,
    KeyRecord,
    Status,
)

Secret = Callable[..., str]


def test_credentials_never_show_their_values(secret: Secret) -> None:
    c = Credentials(api_key=secret("K"), secret=secret("S"), passphrase=secret("P"), extra={"uid": secret("U")})
    for text in (repr(c), str(c), f"{c}", repr([c]), repr({"c": c})):
        for v in c.secret_values():
            assert v not in text
    assert f"<{len(c.api_key)} chars>" in repr(c)


def test_credentials_secret_values_skip_empty_fields(secret: Secret) -> None:
    c = Credentials(api_key=secret("K"), secret=secret("S"), passphrase=None, extra={"uid": "", "token": secret("T")})
    assert c.secret_values() == [c.api_key, c.secret, c.extra["token"]]


def test_credentials_to_ccxt_and_dict_round_trip(secret: Secret) -> None:
    c = Credentials(api_key=secret("K"), secret=secret("S"), passphrase=secret("P"), extra={"uid": "42"})
    assert c.to_ccxt() == {"apiKey": c.api_key, "secret": c.secret, "password": c.passphrase, "uid": "42"}
    assert Credentials.from_dict(c.to_dict()) == c
    bare = Credentials(api_key=secret("K"), secret=secret("S"))
    assert "password" not in bare.to_ccxt()
    assert Credentials.from_dict({"api_key": "a", "secret": "b"}) == Credentials("a", "b")


def test_purposes_and_statuses_match_the_public_contract() -> None:
    assert PURPOSES == ("read-only", "trading", "bot", "tax", "other")
    assert {s.value for s in Status} == {
        "ok", "invalid_key", "invalid_signature", "invalid_passphrase", "ip_not_allowed", "permission_denied",
        "rejected", "rate_limited", "clock_skew", "unreachable", "unsupported", "error",
    }
    assert Status.OK not in AUTH_REJECTIONS and Status.UNREACHABLE not in AUTH_REJECTIONS
    assert Status.INVALID_KEY in AUTH_REJECTIONS


def test_key_profile_json_has_the_inspect_contract_fields() -> None:
    p = KeyProfile(exchange="binance", key="vmPU…q3Fz", permissions=["spot_trade", "read", "read"],
                   ip_restricted=True, created_at=datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC))
    j = p.to_json()
    assert {k: j[k] for k in ("exchange", "key", "status", "permissions", "other", "ip_restricted", "ip_whitelist",
                              "created_at", "expires_at", "trade_expires_at", "is_master", "third_party_link",
                              "last_used_at")} == {
        "exchange": "binance", "key": "vmPU…q3Fz", "status": "ok", "permissions": ["read", "spot_trade"],
        "other": [], "ip_restricted": True, "ip_whitelist": None, "created_at": "2023-10-30T05:53:39Z",
        "expires_at": None, "trade_expires_at": None, "is_master": None, "third_party_link": None,
        "last_used_at": None,
    }
    assert "message" not in j
    assert KeyProfile.from_json(j) == KeyProfile(
        exchange="binance", key="vmPU…q3Fz", permissions=["read", "spot_trade"], ip_restricted=True,
        created_at=datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC))


def test_a_failed_profile_always_carries_a_message() -> None:
    j = KeyProfile(exchange="okx", key="ab…cd", status=Status.INVALID_PASSPHRASE).to_json()
    assert j["status"] == "invalid_passphrase" and j["message"]
    j = KeyProfile(exchange="okx", key="ab…cd", status=Status.UNREACHABLE, message="timed out").to_json()
    assert j["message"] == "timed out"
    assert KeyProfile.from_json(j).status is Status.UNREACHABLE


def test_exposure_activity_and_json() -> None:
    e = Exposure(service="3commas", shared_at=date(2022, 5, 1))
    assert e.active
    assert e.to_json() == {"service": "3commas", "shared_at": "2022-05-01", "revoked_at": None, "note": None}
    e.revoked_at = date(2022, 12, 28)
    assert not e.active


def test_key_record_json_has_the_keys_list_contract_fields() -> None:
    t = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    rec = KeyRecord(
        id="k1", exchange="binance", label="Main", purpose="bot", fingerprint="ABCD…WXYZ", key_sha256="d" * 64,
        created_at=None, added_at=t, updated_at=t,
        exposures=[Exposure(service="koinly"), Exposure(service="3commas"),
                   Exposure(service="cryptohopper", revoked_at=date(2023, 1, 1)), Exposure(service="koinly")],
    )
    j = rec.to_json()
    assert {k: j[k] for k in ("id", "exchange", "label", "key", "purpose", "shared_with", "created_at")} == {
        "id": "k1", "exchange": "binance", "label": "Main", "key": "ABCD…WXYZ", "purpose": "bot",
        "shared_with": ["3commas", "koinly"], "created_at": None,
    }
    assert j["added_at"] == "2024-01-02T03:04:05Z"
    assert len(j["exposures"]) == 4
    assert "d" * 64 not in str(j)  # the digest is for duplicate detection only, never shown


@pytest.mark.parametrize("severity", ["critical", "info"])
def test_finding_json(severity: str) -> None:
    f = Finding(rule="withdraw_enabled", severity=severity, title="t", detail="d", fix="f", evidence={"x": 1})
    assert f.to_json() == {"rule": "withdraw_enabled", "severity": severity, "title": "t", "detail": "d", "fix": "f"}
