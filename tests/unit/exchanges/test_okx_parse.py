from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS, TRADE_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.okx import TABLE, OkxAdapter

# The docs' example (Get account configuration), as in ccxt okx.py fetch_accounts.
DOC_ROW = {
    "uid": "44705892343619584", "mainUid": "44705892343619584", "type": "0", "label": "v5 test", "ip": "",
    "perm": "read_only,withdraw,trade", "acctLv": "2", "posMode": "long_short_mode", "autoLoan": False,
    "kycLv": "3", "level": "Lv1", "levelTmp": "", "opAuth": "1",
}


def parse(row: dict) -> KeyProfile:
    p = KeyProfile(exchange="okx", key="x")
    OkxAdapter().parse({"code": "0", "msg": "", "data": [row]}, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_ROW)
    assert p.permissions == sorted({"read", "withdraw", "transfer", *TRADE_PERMISSIONS})
    assert p.other == []
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.is_master is True and p.account_id == "44705892343619584"
    assert p.created_at is None and p.expires_at is None


def test_bound_ips_and_sub_account() -> None:
    p = parse({**DOC_ROW, "ip": "117.37.203.58,117.37.203.57", "mainUid": "1", "perm": "read_only"})
    assert p.ip_restricted is True and p.ip_whitelist == ["117.37.203.58", "117.37.203.57"]
    assert p.is_master is False
    assert p.permissions == ["read"]


def test_missing_ip_or_uids_say_nothing() -> None:
    row = {k: v for k, v in DOC_ROW.items() if k not in ("ip", "mainUid")}
    p = parse(row)
    assert p.ip_restricted is None and p.ip_whitelist is None
    assert p.is_master is None


@pytest.mark.parametrize("data", [{"code": "0"}, {"code": "0", "data": []}, {"code": "0", "data": [1]},
                                  {"code": "0", "data": [{"uid": "1"}]}])
def test_undocumented_shapes_are_parse_errors(data: dict) -> None:
    with pytest.raises(ParseError):
        OkxAdapter().parse(data, KeyProfile(exchange="okx", key="x"))


@pytest.mark.parametrize(
    ("code", "status"),
    [("50111", Status.INVALID_KEY), ("50101", Status.INVALID_KEY), ("50113", Status.INVALID_SIGNATURE),
     ("50105", Status.INVALID_PASSPHRASE), ("50110", Status.IP_NOT_ALLOWED), ("50102", Status.CLOCK_SKEW),
     ("50120", Status.PERMISSION_DENIED), ("50011", Status.RATE_LIMITED), ("50100", Status.REJECTED)],
)
def test_error_codes(code: str, status: Status) -> None:
    mapped = OkxAdapter().classify(401, {"code": code, "msg": "x", "data": []}, RuntimeError())
    assert mapped is not None and mapped[0] is status


def test_item_level_scode_is_read_first() -> None:
    body = {"code": "1", "msg": "", "data": [{"sCode": "50110", "sMsg": "ip"}]}
    mapped = OkxAdapter().classify(200, body, RuntimeError())
    assert mapped is not None and mapped[0] is Status.IP_NOT_ALLOWED


tokens = st.one_of(st.sampled_from(sorted(TABLE.grants)),
                   st.text(alphabet=st.characters(exclude_characters=","), min_size=1, max_size=12))


@given(st.lists(tokens, max_size=8), st.one_of(st.none(), st.text(max_size=40), st.lists(st.text(max_size=9))),
       st.one_of(st.none(), st.text(max_size=6), st.integers()), st.one_of(st.none(), st.text(max_size=6)))
def test_random_documented_fields_never_crash(perms: list[str], ip: object, uid: object, main: object) -> None:
    p = parse({**DOC_ROW, "perm": ",".join(perms), "ip": ip, "uid": uid, "mainUid": main})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions) and p.other == sorted(p.other)
    for t in perms:
        if t.strip() and t.strip() not in TABLE.grants:
            assert t.strip() in p.other
    if "trade" in {t.strip() for t in perms}:
        assert TRADE_PERMISSIONS <= set(p.permissions)


def test_trade_covers_funding_transfers_per_docs_v5() -> None:
    # docs-v5 "API key permissions": "Trade: Can place and cancel orders, funding transfer" (issue 15 item 3).
    grant = TABLE.grants["trade"]
    assert "transfer" in grant.permissions and "funding transfer" in grant.source
    assert "exchanges.md" not in grant.source
