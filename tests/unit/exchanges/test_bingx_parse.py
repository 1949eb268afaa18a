from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.bingx import TABLE, BingxAdapter, select_own
from tests.helpers.sim_force import generic_for_rate_limit

# BingX docs: apiPermissions' documented body, and apiKey/query's example.
DOC_PERMISSIONS = {"apiKey": "", "permissions": [1, 2], "ipAddresses": [], "note": "demo"}
DOC_QUERY = {"code": 0, "timestamp": 1702289687300, "data": {"apiInfos": [
    {"apiKey": "zF*******zQ", "note": "note****", "permissions": [1, 2, 3, 4, 7], "ipAddresses": [""], "status": 0,
     "createTime": 1702289687211, "updateTime": 1702289687000}]}}
API_KEY = "zF" + "x" * 60 + "zQ"


def parse(perms: object, query: object = None) -> KeyProfile:
    p = KeyProfile(exchange="bingx", key="x")
    BingxAdapter().parse({"apiPermissions": perms, "apiKeyQuery": query}, p)
    return p


def test_documented_bodies() -> None:
    p = parse(DOC_PERMISSIONS, select_own(DOC_QUERY, API_KEY))
    assert p.permissions == ["read", "spot_trade"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at == datetime(2023, 12, 11, 10, 14, 47, tzinfo=UTC)
    assert p.is_master is True  # apiKey/query answers main accounts only
    assert any("14 days" in n for n in p.notes)  # unbound trading key


def test_wrapped_envelope_and_every_code() -> None:
    p = parse({"code": 0, "msg": "", "data": {"apiKey": "k", "permissions": [1, 2, 3, 4, 5, 7],
                                              "ipAddresses": ["1.2.3.4"]}})
    assert p.permissions == ["futures_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.ip_restricted is True and p.ip_whitelist == ["1.2.3.4"]
    assert not any("14 days" in n for n in p.notes)


def test_without_the_key_query_nothing_is_guessed() -> None:
    p = parse({"permissions": ["2"]}, None)
    assert p.permissions == ["read"]
    assert p.created_at is None and p.is_master is None and p.ip_restricted is None
    assert any("creation time" in n for n in p.notes)


def test_unknown_codes_are_reported_raw() -> None:
    p = parse({"permissions": [2, 6, 99]})
    assert p.permissions == ["read"] and p.other == ["6", "99"]


def test_select_own_matches_the_mask() -> None:
    two = {"data": {"apiInfos": [{"apiKey": "ab***cd", "createTime": 1}, {"apiKey": "zF***zQ", "createTime": 2}]}}
    assert select_own(two, API_KEY)["createTime"] == 2
    assert select_own({"data": {"apiInfos": []}}, API_KEY) is None
    assert select_own({"code": 100004, "msg": "x"}, API_KEY) is None


@pytest.mark.parametrize("body", [{}, {"apiPermissions": {"note": "x"}}, {"apiPermissions": {"permissions": 5}}])
def test_undocumented_shapes_are_parse_errors(body: dict) -> None:
    with pytest.raises(ParseError):
        BingxAdapter().parse(body, KeyProfile(exchange="bingx", key="x"))


@pytest.mark.parametrize(
    ("code", "status"),
    [(100413, Status.INVALID_KEY), (100001, Status.INVALID_SIGNATURE), (100412, Status.INVALID_SIGNATURE),
     (100419, Status.IP_NOT_ALLOWED), (100004, Status.PERMISSION_DENIED), (100421, Status.CLOCK_SKEW),
     (80014, Status.CLOCK_SKEW), (100410, Status.RATE_LIMITED)],
)
def test_error_codes(code: int, status: Status) -> None:
    mapped = BingxAdapter().classify(200, {"code": code, "msg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_other_codes_fall_back() -> None:
    assert BingxAdapter().classify(200, {"code": 80012, "msg": "busy"}, RuntimeError()) is None
    assert generic_for_rate_limit(BingxAdapter(), 418, json.dumps({"code": 100410}))


codes = st.one_of(st.sampled_from([int(c) for c in TABLE.grants]), st.integers(-5, 200), st.text(max_size=4),
                  st.booleans(), st.none())


@given(st.lists(codes, max_size=10),
       st.one_of(st.none(), st.lists(st.text(max_size=12), max_size=3), st.text(max_size=20)),
       st.one_of(st.none(), st.fixed_dictionaries({"createTime": st.one_of(st.none(), st.integers(), st.text())})),
       st.booleans())
def test_random_answers_never_crash(perms: list, ips: object, query: object, wrapped: bool) -> None:
    body = {"permissions": perms, "ipAddresses": ips}
    p = parse({"code": 0, "data": body} if wrapped else body, query)
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions)
    for c in perms:
        if isinstance(c, int | str) and not isinstance(c, bool) and str(c) not in TABLE.grants:
            assert str(c) in p.other
