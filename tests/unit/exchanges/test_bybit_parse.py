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


# The current example of docs v5/user/apikey-info (bybit-exchange/docs 2026): a unified account (uta 1), IP-bound.
CURRENT_DOC_RESULT = {
    "id": "2208369", "note": "testnet", "apiKey": "XXXXXXXX", "readOnly": 1, "secret": "",
    "permissions": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                    "Wallet": ["AccountTransfer", "SubMemberTransfer"], "Options": [],
                    "Derivatives": ["DerivativesTrade"], "CopyTrading": [], "BlockTrade": [],
                    "Exchange": ["ExchangeHistory"], "NFT": [], "Affiliate": [], "Earn": ["Earn"],
                    "FiatP2P": ["FiatP2POrder", "Advertising"], "FiatConvertBroker": ["FiatConvertBrokerOrder"],
                    "FiatGlobalPay": [], "FiatBitPay": ["FaitPayOrder"], "BitCard": ["BitCard"],
                    "ByXPost": ["ByXPost"]},
    "ips": ["18.181.170.164", "13.212.45.47", "13.212.45.48"], "type": 1, "deadlineDay": -2,
    "expiredAt": "1970-01-01T00:00:00Z", "createdAt": "2025-10-13T03:20:45Z", "unified": 0, "uta": 1,
    "userID": 1448939, "inviterID": 0, "vipLevel": "PRO-1", "mktMakerLevel": "0", "affiliateID": 0,
    "rsaPublicKey": "", "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_1", "kycRegion": "MYS",
    "userIDInt64": "0", "inviterIDInt64": "0", "affiliateIDInt64": "0",
}


def parse(result: dict) -> KeyProfile:
    p = KeyProfile(exchange="bybit", key="x")
    BybitAdapter().parse({"retCode": 0, "retMsg": "", "result": result}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_RESULT)
    # Options.OptionsTrade "supports trade option and USDC perpetual": options and futures (issue 15 item 1).
    assert p.permissions == ["futures_trade", "options_trade", "read", "spot_trade", "transfer"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at == datetime(2022, 10, 16, 2, 24, 40, tzinfo=UTC)
    assert p.expires_at == datetime(2023, 12, 22, 7, 20, 25, tzinfo=UTC)
    assert p.is_master is True and p.third_party_link is None
    assert p.account_id == "24617703"


def test_options_trade_also_trades_usdc_perpetuals() -> None:
    p = parse({**DOC_RESULT, "permissions": {"Options": ["OptionsTrade"]}})
    assert p.permissions == ["futures_trade", "options_trade", "read"]
    assert "USDC perpetual" in TABLE.grants["Options.OptionsTrade"].source


def test_spot_trade_on_a_unified_account_also_trades_on_margin() -> None:
    # The current doc example is a unified account (uta 1); write it as a read-write key.
    p = parse({**CURRENT_DOC_RESULT, "readOnly": 0})
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade", "transfer"]
    assert not any("unconfirmed" in n for n in p.notes)
    assert p.ip_restricted is True and p.ip_whitelist == CURRENT_DOC_RESULT["ips"] and p.expires_at is None
    classic = parse({**CURRENT_DOC_RESULT, "readOnly": 0, "uta": 0})
    assert "margin_trade" not in classic.permissions and "spot_trade" in classic.permissions
    assert "margin_trade" not in parse({**CURRENT_DOC_RESULT, "readOnly": 0, "uta": 1,
                                        "permissions": {"Derivatives": ["DerivativesTrade"]}}).permissions


def test_current_documented_example_is_a_read_only_key() -> None:
    p = parse(CURRENT_DOC_RESULT)
    assert p.permissions == ["read"] and p.other == []


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
    [(10003, Status.INVALID_KEY), (33004, Status.INVALID_KEY), (-2015, Status.INVALID_KEY),
     (10004, Status.INVALID_SIGNATURE), (10002, Status.CLOCK_SKEW), (10010, Status.IP_NOT_ALLOWED),
     (10005, Status.PERMISSION_DENIED), (10006, Status.RATE_LIMITED), (10007, Status.REJECTED),
     (10008, Status.REJECTED), (10009, Status.UNREACHABLE)],
)
def test_error_codes(code: int, status: Status) -> None:
    # docs v5/error, UTA table (issue 15 item 1).
    mapped = BybitAdapter().classify(200, {"retCode": code, "retMsg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_10009_is_a_region_restriction_not_a_rate_limit() -> None:
    body = {"retCode": 10009, "retMsg": "Service Restricted: Access is currently unavailable for your region. Please "
                                        "contact our support team for further assistance", "result": {}}
    status, message = BybitAdapter().classify(403, body, RuntimeError())  # type: ignore[misc]
    assert status is Status.UNREACHABLE
    assert "region" in message and "10009" in message and "rate" not in message.lower()


def test_10007_says_authentication_failed() -> None:
    mapped = BybitAdapter().classify(401, {"retCode": 10007, "retMsg": "User authentication failed."}, RuntimeError())
    assert mapped is not None and "authentication failed" in mapped[1]


def test_10018_is_no_longer_in_the_error_table() -> None:
    assert BybitAdapter().classify(200, {"retCode": 10018, "retMsg": "x"}, RuntimeError()) is None


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
