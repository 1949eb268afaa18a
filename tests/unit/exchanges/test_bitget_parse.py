from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.bitget import TABLE, BitgetAdapter

# The docs' example (bitget.com/api-doc/spot/account/Get-Account-Info).
DOC_DATA = {
    "userId": "**********", "inviterId": "**********", "ips": "127.0.0.1", "authorities": ["trade", "readonly"],
    "parentId": 1, "traderType": "trader", "channelCode": "XXX", "channel": "YYY", "regisTime": "1246566789345",
}


def parse(data: dict) -> KeyProfile:
    p = KeyProfile(exchange="bitget", key="x")
    BitgetAdapter().parse({"code": "00000", "msg": "success", "requestTime": 1695808949356, "data": data}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_DATA)
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade"]
    assert p.ip_restricted is True and p.ip_whitelist == ["127.0.0.1"]
    assert p.created_at is None  # regisTime is the account's registration, not the key's creation
    assert p.is_master is None and p.account_id is None  # the example's user id is masked
    assert p.notes


@pytest.mark.parametrize(
    ("codes", "perms"),
    [(["stor", "coor"], ["read"]), (["stow"], ["read", "spot_trade"]), (["smow"], ["margin_trade", "read"]),
     (["coow"], ["futures_trade", "read"]), (["cpow"], ["futures_trade", "read"]), (["wtow"], ["read", "transfer"]),
     (["wwow"], ["withdraw"]), (["chow", "p2p", "ttow"], [])],
)
def test_authority_codes(codes: list[str], perms: list[str]) -> None:
    assert parse({**DOC_DATA, "authorities": codes}).permissions == perms


def test_master_and_sub_account() -> None:
    assert parse({**DOC_DATA, "userId": "123", "parentId": 123}).is_master is True
    assert parse({**DOC_DATA, "userId": "123", "parentId": 123}).account_id == "123"
    assert parse({**DOC_DATA, "userId": "123", "parentId": "456"}).is_master is False
    assert parse({**DOC_DATA, "userId": "123", "parentId": 0}).is_master is None


@pytest.mark.parametrize(("ips", "restricted", "listed"),
                         [("", False, []), (None, None, None), ("1.1.1.1,2.2.2.2", True, ["1.1.1.1", "2.2.2.2"])])
def test_ip_whitelist(ips: object, restricted: object, listed: object) -> None:
    data = {**DOC_DATA, "ips": ips} if ips is not None else {k: v for k, v in DOC_DATA.items() if k != "ips"}
    p = parse(data)
    assert p.ip_restricted is restricted and p.ip_whitelist == listed


@pytest.mark.parametrize("data", [{"code": "00000"}, {"code": "00000", "data": {"userId": "1"}},
                                  {"code": "00000", "data": {"authorities": "stor"}}])
def test_undocumented_shapes_are_parse_errors(data: dict) -> None:
    with pytest.raises(ParseError):
        BitgetAdapter().parse(data, KeyProfile(exchange="bitget", key="x"))


@pytest.mark.parametrize(
    ("code", "status"),
    [("40006", Status.INVALID_KEY), ("40037", Status.INVALID_KEY), ("40009", Status.INVALID_SIGNATURE),
     ("40012", Status.INVALID_PASSPHRASE), ("40018", Status.IP_NOT_ALLOWED), ("40014", Status.PERMISSION_DENIED),
     ("40008", Status.CLOCK_SKEW), ("40004", Status.CLOCK_SKEW), ("429", Status.RATE_LIMITED)],
)
def test_error_codes(code: str, status: Status) -> None:
    mapped = BitgetAdapter().classify(400, {"code": code, "msg": "x", "data": None}, RuntimeError())
    assert mapped is not None and mapped[0] is status


codes = st.one_of(st.sampled_from(sorted(TABLE.grants)), st.text(min_size=1, max_size=8))


@given(st.lists(codes, max_size=10), st.one_of(st.none(), st.text(max_size=40)),
       st.one_of(st.none(), st.integers(), st.text(max_size=12)), st.one_of(st.none(), st.integers(),
                                                                            st.text(max_size=12)),
       st.one_of(st.none(), st.text(max_size=15), st.integers()))
def test_random_documented_fields_never_crash(auth: list[str], ips: object, user: object, parent: object,
                                              regis: object) -> None:
    p = parse({**DOC_DATA, "authorities": auth, "ips": ips, "userId": user, "parentId": parent,
               "regisTime": regis})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions) and p.other == sorted(p.other)
    for c in auth:
        if c.strip() and c.strip() not in TABLE.grants:
            assert c.strip() in p.other
    assert p.created_at is None
