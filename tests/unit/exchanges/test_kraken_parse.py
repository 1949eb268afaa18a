from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.kraken import TABLE, KrakenAdapter

# The docs' example (docs.kraken.com Get API Key Info).
DOC_RESULT = {
    "apiKeyName": "my-api-key", "apiKey": "4/SDrDBcOOPnm3nPlNfEMMJDeRcIVqPz+QhRxIodyZbI9po/aVRiHsgX",
    "nonce": "1772627060997", "nonceWindow": 0,
    "permissions": ["query-funds", "withdraw-funds", "query-open-trades", "modify-trades"],
    "iban": "AA88 N84G WOAK NMOI", "validUntil": "0", "queryFrom": "0", "queryTo": "0",
    "createdTime": "1772542900", "modifiedTime": "1772543095", "ipAllowlist": [], "lastUsed": "1772627061",
}


def parse(result: dict) -> KeyProfile:
    p = KeyProfile(exchange="kraken", key="x")
    KrakenAdapter().parse({"error": [], "result": result}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_RESULT)
    assert p.permissions == ["margin_trade", "read", "spot_trade", "withdraw"]
    assert p.other == []
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at == datetime.fromtimestamp(1772542900, UTC)
    assert p.expires_at is None  # validUntil "0": not set
    assert p.last_used_at == datetime.fromtimestamp(1772627061, UTC)
    assert p.is_master is None and p.trade_expires_at is None and p.third_party_link is None
    assert p.account_id == "AA88 N84G WOAK NMOI"  # the account's internal IBAN
    assert p.notes == []


def test_allowlist_expiry_and_never_used() -> None:
    p = parse({**DOC_RESULT, "ipAllowlist": ["1.2.3.4", "10.0.0.0/8"], "validUntil": "1800000000",
               "lastUsed": None})
    assert p.ip_restricted is True and p.ip_whitelist == ["1.2.3.4", "10.0.0.0/8"]
    assert p.expires_at == datetime.fromtimestamp(1800000000, UTC)
    assert p.last_used_at is None


def test_missing_allowlist_says_nothing() -> None:
    p = parse({k: v for k, v in DOC_RESULT.items() if k != "ipAllowlist"})
    assert p.ip_restricted is None and p.ip_whitelist is None


@pytest.mark.parametrize("data", [{"error": []}, {"error": [], "result": {"apiKey": "x"}},
                                  {"error": [], "result": {"permissions": "query-funds"}},
                                  {"error": ["EAPI:Invalid key"], "result": DOC_RESULT}])
def test_undocumented_shapes_are_parse_errors(data: dict) -> None:
    with pytest.raises(ParseError):
        KrakenAdapter().parse(data, KeyProfile(exchange="kraken", key="x"))


@pytest.mark.parametrize(
    ("error", "status"),
    [("EAPI:Invalid key", Status.INVALID_KEY), ("EAPI:Invalid signature", Status.INVALID_SIGNATURE),
     ("EAPI:Invalid nonce", Status.CLOCK_SKEW), ("EGeneral:Permission denied", Status.REJECTED),
     ("EAPI:Rate limit exceeded", Status.RATE_LIMITED), ("EGeneral:Temporary lockout", Status.RATE_LIMITED),
     ("EService: Throttled: 1700000000", Status.RATE_LIMITED), ("ETrade:User Locked", Status.REJECTED)],
)
def test_error_strings(error: str, status: Status) -> None:
    mapped = KrakenAdapter().classify(200, {"error": [error]}, RuntimeError())
    assert mapped is not None and mapped[0] is status


def test_unknown_error_falls_back_to_generic() -> None:
    assert KrakenAdapter().classify(200, {"error": ["EQuery:Unknown asset pair"]}, RuntimeError()) is None


stamps = st.one_of(st.none(), st.integers(min_value=-10, max_value=10**11), st.text(max_size=12))


@given(st.lists(st.one_of(st.sampled_from(sorted(TABLE.grants)), st.text(max_size=15)), max_size=10),
       st.one_of(st.none(), st.lists(st.text(max_size=18), max_size=4), st.text(max_size=10)),
       stamps, stamps, stamps)
def test_random_documented_fields_never_crash(perms: list[str], allow: object, created: object, valid: object,
                                              used: object) -> None:
    p = parse({**DOC_RESULT, "permissions": perms, "ipAllowlist": allow, "createdTime": created,
               "validUntil": valid, "lastUsed": used})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions) and p.other == sorted(p.other)
    for t in perms:
        if t not in TABLE.grants:
            assert t in p.other
    assert p.ip_restricted in (True, False, None)
