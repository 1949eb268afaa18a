from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.bybit import TABLE, BybitAdapter

DOC_RESULT = {
    "id": "13770661", "note": "readwrite api key", "apiKey": "XXXXXX", "readOnly": 0, "secret": "",
    "permissions": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                    "Wallet": ["AccountTransfer", "SubMemberTransfer"], "Options": ["OptionsTrade"],
                    "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [],
                    "Affiliate": [], "Earn": []},
    "ips": ["*"], "type": 1, "deadlineDay": 66, "expiredAt": "2023-12-22T07:20:25Z",
    "createdAt": "2022-10-16T02:24:40Z", "unified": 0, "uta": 0, "userID": 24617703, "isMaster": True,
    "parentUid": "0",
}


def parse(result: dict) -> KeyProfile:
    p = KeyProfile(exchange="bybit", key="x")
    BybitAdapter().parse({"retCode": 0, "retMsg": "", "result": result}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_RESULT)
    assert p.permissions == ["futures_trade", "options_trade", "read", "spot_trade", "transfer"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at == datetime(2022, 10, 16, 2, 24, 40, tzinfo=UTC)
    assert p.expires_at == datetime(2023, 12, 22, 7, 20, 25, tzinfo=UTC)
    assert p.is_master is True and p.third_party_link is None
    assert p.account_id == "24617703"


def test_ip_bound_key_never_expires_and_lists_ips() -> None:
    p = parse({**DOC_RESULT, "ips": ["1.2.3.4", "5.6.7.8"], "expiredAt": "1970-01-01T00:00:00Z", "deadlineDay": -2})
    assert p.ip_restricted is True and p.ip_whitelist == ["1.2.3.4", "5.6.7.8"]
    assert p.expires_at is None


def test_withdraw_and_third_party_link() -> None:
    p = parse({**DOC_RESULT, "type": 2, "isMaster": False,
               "permissions": {"Wallet": ["Withdraw"], "Earn": ["Earn"], "FiatBitPay": ["FaitPayOrder"]}})
    assert p.permissions == ["read", "withdraw"]
    assert p.other == ["Earn.Earn", "FiatBitPay.FaitPayOrder"]
    assert p.third_party_link and "third-party" in p.third_party_link
    assert p.is_master is False


def test_a_read_only_key_can_only_read_whatever_groups_it_lists() -> None:
    # readOnly 1 = "Read only" (docs v5/user/apikey-info): a read-only key still lists the products it was made
    # for, and unified accounts get DerivativesTrade added automatically.
    p = parse({**DOC_RESULT, "readOnly": 1, "uta": 1,
               "permissions": {**DOC_RESULT["permissions"], "Derivatives": ["DerivativesTrade"],
                               "Wallet": ["AccountTransfer"]}})
    assert p.permissions == ["read"] and p.other == []
    assert any("read-only" in n and "Spot" in n for n in p.notes)
    assert not any("spot margin" in n for n in p.notes)
    assert parse({**DOC_RESULT, "readOnly": "0"}).permissions == parse(DOC_RESULT).permissions


def test_missing_result_is_parse_error() -> None:
    with pytest.raises(ParseError):
        BybitAdapter().parse({"retCode": 0}, KeyProfile(exchange="bybit", key="x"))


@pytest.mark.parametrize(
    ("code", "status"),
    [(10003, Status.INVALID_KEY), (33004, Status.INVALID_KEY), (10004, Status.INVALID_SIGNATURE),
     (10002, Status.CLOCK_SKEW), (10010, Status.IP_NOT_ALLOWED), (10005, Status.PERMISSION_DENIED),
     (10006, Status.RATE_LIMITED), (10018, Status.RATE_LIMITED), (10009, Status.RATE_LIMITED)],
)
def test_error_codes(code: int, status: Status) -> None:
    mapped = BybitAdapter().classify(200, {"retCode": code, "retMsg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status


groups = st.sampled_from(["Spot", "ContractTrade", "Derivatives", "Options", "Wallet", "Earn", "NFT", "Xyz"])
tokens = st.one_of(st.sampled_from([g.split(".", 1)[1] for g in TABLE.grants]), st.text(min_size=1, max_size=12))


@given(st.dictionaries(groups, st.lists(tokens, max_size=4), max_size=8),
       st.one_of(st.none(), st.lists(st.text(max_size=15), max_size=3), st.text(max_size=20)),
       st.one_of(st.none(), st.text(max_size=25)))
def test_random_permission_groups_never_crash(perms: dict, ips: object, expired: object) -> None:
    p = parse({**DOC_RESULT, "permissions": perms, "ips": ips, "expiredAt": expired})
    assert set(p.permissions) <= set(ALL_PERMISSIONS) and "read" in p.permissions
    assert p.permissions == sorted(p.permissions)
    for g, toks in perms.items():
        for t in toks:
            if f"{g}.{t}" not in TABLE.grants:
                assert f"{g}.{t}" in p.other
