from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.htx import TABLE, HtxAdapter, select_own
from tests.helpers.sim_force import generic_for_rate_limit

# The htx.com "API key query" example (two keys of one UID).
DOC_DATA = [
    {"accessKey": "160bb889-b7XXXXbe-e0XXXXf5-ghxertfvbf", "status": "normal", "note": "host",
     "permission": "trade,readOnly", "ipAddresses": "192.168.0.1,192.168.1.1", "validDays": -1,
     "createTime": 1615192704000, "updateTime": 1623030338000},
    {"accessKey": "5000d371-edXXXXf5tf-40XXXX8b-ab8e5", "status": "normal", "note": "host two",
     "permission": "readOnly,trade,withdraw", "ipAddresses": "", "validDays": 7,
     "createTime": 1623158078000, "updateTime": 1629875976000},
]
ALL_TRADE = ["futures_trade", "margin_trade", "options_trade", "spot_trade"]


def parse(entry: dict) -> KeyProfile:
    p = KeyProfile(exchange="htx", key="x")
    HtxAdapter().parse(entry, p)
    return p


def test_documented_ip_bound_key() -> None:
    p = parse(DOC_DATA[0])
    # HTX's one trade right covers every market and transfers (DESIGN.md: list every trade kind).
    assert p.permissions == sorted(["read", "transfer", *ALL_TRADE])
    assert p.ip_restricted is True and p.ip_whitelist == ["192.168.0.1", "192.168.1.1"]
    assert p.created_at == datetime(2021, 3, 8, 8, 38, 24, tzinfo=UTC)
    assert p.expires_at is None  # validDays -1: "permanently valid"
    assert p.is_master is True  # the endpoint answers parent users only


def test_documented_unbound_key_with_withdraw_expires_in_valid_days() -> None:
    before = datetime.now(UTC)
    p = parse(DOC_DATA[1])
    assert "withdraw" in p.permissions
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.expires_at is not None
    start_of_day = before.replace(hour=0, minute=0, second=0, microsecond=0)
    assert p.expires_at in (start_of_day + timedelta(days=7), start_of_day + timedelta(days=8))  # (at midnight)
    assert any("90 days" in n for n in p.notes)


@pytest.mark.parametrize("days", [0, 1, 7])
def test_the_expiry_is_the_same_whenever_in_the_day_the_key_is_checked(monkeypatch: pytest.MonkeyPatch,
                                                                       days: int) -> None:
    """Issue 20: the Expires column flipped between "today" and "expired" because the expiry was counted from
    the moment of each check; whole days left make a date, the same for every check that day."""
    import keyhygiene.exchanges.htx as htx

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    seen = set()
    for at in (day + timedelta(minutes=5), day + timedelta(hours=13), day + timedelta(hours=23, minutes=59)):
        monkeypatch.setattr(htx, "utcnow", lambda at=at: at)
        seen.add(parse({**DOC_DATA[1], "validDays": days}).expires_at)
    assert seen == {day + timedelta(days=days)}


def test_missing_ip_field_means_no_ip_is_bound() -> None:
    # exchanges-confirmations.md H2: the field may be left out when no IP is bound; treat it like "".
    p = parse({"permission": "readOnly", "status": "expired"})
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert any("expired" in n for n in p.notes) and any("90 days" in n for n in p.notes)


def test_select_own_prefers_the_exact_key_and_accepts_a_single_masked_entry() -> None:
    assert select_own(DOC_DATA, "5000d371-edXXXXf5tf-40XXXX8b-ab8e5")["note"] == "host two"
    assert select_own(DOC_DATA[:1], "anything")["note"] == "host"
    with pytest.raises(ParseError):
        select_own(DOC_DATA, "not-there")
    with pytest.raises(ParseError):
        select_own({"accessKey": "x"}, "x")


def test_unknown_tokens_land_in_other() -> None:
    p = parse({"permission": "readOnly,margin-lend, futuresOnly"})
    assert p.permissions == ["read"]
    assert p.other == ["futuresOnly", "margin-lend"]


def test_bad_shapes_are_parse_errors() -> None:
    with pytest.raises(ParseError):
        parse({"note": "no permission field"})
    with pytest.raises(ParseError):
        parse({"permission": ["readOnly"]})


SIG = "api-signature-not-valid"


def sig_error(msg: str) -> dict:
    return {"status": "error", "err-code": SIG, "err-msg": f"Signature not valid: {msg}"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (sig_error("Incorrect Access key [Access key错误]"), Status.INVALID_KEY),
        (sig_error("Incorrect IP address [IP地址错误]:1.2.3.4"), Status.IP_NOT_ALLOWED),
        (sig_error("ip地址错误"), Status.IP_NOT_ALLOWED),
        (sig_error("无效的提交时间"), Status.CLOCK_SKEW),
        (sig_error("API key has no permission [API Key没有权限]"), Status.PERMISSION_DENIED),
        (sig_error("Verification failure [校验失败]"), Status.INVALID_SIGNATURE),
        (sig_error("something new"), Status.REJECTED),
        ({"status": "error", "err-code": "api-signature-check-failed", "err-msg": ""}, Status.INVALID_SIGNATURE),
        ({"status": "error", "err-code": "base-request-exceed-frequency-limit", "err-msg": ""}, Status.RATE_LIMITED),
        ({"status": "error", "err_code": 403, "err_msg": "Incorrect Access key [Access key错误]"}, Status.INVALID_KEY),
        ({"code": 1003, "message": "invalid signature"}, Status.INVALID_SIGNATURE),
        ({"code": 1002, "message": "forbidden"}, Status.PERMISSION_DENIED),
        ({"code": 403, "message": "forbidden"}, Status.PERMISSION_DENIED),
    ],
)
def test_error_bodies(body: dict, status: Status) -> None:
    mapped = HtxAdapter().classify(200, body, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_unrecognised_bodies_fall_back() -> None:
    a = HtxAdapter()
    assert a.classify(200, {"status": "error", "err-code": "order-not-found"}, RuntimeError()) is None
    assert a.classify(200, {"code": 2002, "message": "invalid field value"}, RuntimeError()) is None
    assert generic_for_rate_limit(a, 429, json.dumps({"status": "error", "err-code": SIG}))


tokens = st.one_of(st.sampled_from(list(TABLE.grants)), st.text(alphabet=st.characters(blacklist_characters=","),
                                                                 min_size=1, max_size=10))


@given(st.lists(tokens, max_size=6),
       st.one_of(st.none(), st.text(max_size=40), st.lists(st.text(max_size=10), max_size=3), st.integers()),
       st.one_of(st.none(), st.integers(-5, 10**6), st.text(max_size=4), st.booleans()),
       st.one_of(st.none(), st.integers(-10, 10**14), st.text(max_size=10)))
def test_random_entries_never_crash(toks: list[str], ips: object, days: object, created: object) -> None:
    p = parse({"permission": ",".join(toks), "ipAddresses": ips, "validDays": days, "createTime": created})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions)
    for t in toks:
        if t.strip() and t.strip() not in TABLE.grants:
            assert t.strip() in p.other
