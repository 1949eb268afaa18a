from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.kucoin import TABLE, KucoinAdapter

# The example of the official spec (Get API Key Info).
DOC_DATA = {
    "remark": "account1", "apiKey": "6705f5c311545b000157d3eb", "apiVersion": 3,
    "permission": "General,Futures,Spot,Earn,InnerTransfer,Transfer,Margin",
    "ipWhitelist": "203.**.154,103.**.34", "createdAt": 1728443843000, "uid": 165111215, "isMaster": True,
}


def parse(data: dict) -> KeyProfile:
    p = KeyProfile(exchange="kucoin", key="x")
    KucoinAdapter().parse({"code": "200000", "data": data}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_DATA)
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.other == ["Earn"]
    assert p.ip_restricted is True and p.ip_whitelist == ["203.**.154", "103.**.34"]
    assert p.created_at == datetime(2024, 10, 9, 3, 17, 23, tzinfo=UTC)
    assert p.is_master is True and p.account_id == "165111215"
    assert p.expires_at is None and p.trade_expires_at is None and p.last_used_at is None


def test_expiry_is_said_to_be_unreported() -> None:
    # Issue 15 item 6: keys can expire after 30/90/180/360 days; GET /api/v1/user/api-key does not say.
    p = parse(DOC_DATA)
    assert p.expires_at is None
    assert any(n.startswith("Expiry: the exchange does not say") and "30, 90, 180 or 360 days" in n
               for n in p.notes)
    assert p.to_json()["expires_at"] is None


def test_transfer_is_withdraw_and_inner_transfer_is_transfer() -> None:
    assert parse({**DOC_DATA, "permission": "General,Transfer"}).permissions == ["read", "withdraw"]
    assert parse({**DOC_DATA, "permission": "General,InnerTransfer"}).permissions == ["read", "transfer"]


def test_sub_account_key_is_not_master() -> None:
    assert parse({**DOC_DATA, "isMaster": False, "subName": "bot1"}).is_master is False
    no_flag = {k: v for k, v in DOC_DATA.items() if k != "isMaster"}
    assert parse({**no_flag, "subName": "bot1"}).is_master is False
    assert parse(no_flag).is_master is None  # says nothing either way


@pytest.mark.parametrize("whitelist", [None, ""])
def test_no_whitelist_is_unrestricted_and_says_it_assumed_so(whitelist: object) -> None:
    data = {k: v for k, v in DOC_DATA.items() if k != "ipWhitelist"}
    if whitelist is not None:
        data["ipWhitelist"] = whitelist
    p = parse(data)
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.notes


def test_old_key_version_gets_a_note() -> None:
    assert any("version 2" in n for n in parse({**DOC_DATA, "apiVersion": 2}).notes)
    assert not any("version" in n for n in parse(DOC_DATA).notes)


@pytest.mark.parametrize("data", [{"code": "200000"}, {"code": "200000", "data": []},
                                  {"code": "200000", "data": {"apiKey": "x"}},
                                  {"code": "200000", "data": {"permission": 7}}])
def test_undocumented_shapes_are_parse_errors(data: dict) -> None:
    with pytest.raises(ParseError):
        KucoinAdapter().parse(data, KeyProfile(exchange="kucoin", key="x"))


@pytest.mark.parametrize(
    ("code", "status"),
    [("400001", Status.REJECTED), ("400002", Status.CLOCK_SKEW), ("400003", Status.INVALID_KEY),
     ("400004", Status.INVALID_PASSPHRASE), ("400005", Status.INVALID_SIGNATURE),
     ("400006", Status.IP_NOT_ALLOWED), ("400007", Status.PERMISSION_DENIED), ("400008", Status.INVALID_KEY),
     ("411100", Status.REJECTED), ("429000", Status.RATE_LIMITED)],
)
def test_error_codes(code: str, status: Status) -> None:
    mapped = KucoinAdapter().classify(401, {"code": code, "msg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status


def test_unknown_error_code_falls_back_to_generic() -> None:
    assert KucoinAdapter().classify(400, {"code": "900001", "msg": "x"}, RuntimeError()) is None
    assert KucoinAdapter().classify(502, None, RuntimeError()) is None


tokens = st.one_of(st.sampled_from(sorted(TABLE.grants)), st.text(alphabet=st.characters(exclude_characters=","),
                                                                  min_size=1, max_size=12))


@given(st.lists(tokens, max_size=10),
       st.one_of(st.none(), st.text(max_size=40), st.lists(st.text(max_size=15), max_size=3)),
       st.one_of(st.none(), st.integers(), st.text(max_size=15)),
       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
       st.one_of(st.none(), st.integers(), st.text(max_size=3)))
def test_random_documented_fields_never_crash(perms: list[str], ips: object, created: object, master: object,
                                              version: object) -> None:
    p = parse({**DOC_DATA, "permission": ",".join(perms), "ipWhitelist": ips, "createdAt": created,
               "isMaster": master, "apiVersion": version})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions) and p.other == sorted(p.other)
    for t in perms:
        t = t.strip()
        if t and t not in TABLE.grants:
            assert t in p.other
    assert p.ip_restricted in (True, False)
