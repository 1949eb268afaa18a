from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.mexc import ACCOUNT_FACTS, MexcAdapter
from tests.helpers.sim_force import generic_for_rate_limit

# MEXC spot v3 docs, "Account Information" example.
DOC_EXAMPLE = {"canTrade": True, "canWithdraw": True, "canDeposit": True, "updateTime": None, "accountType": "SPOT",
               "balances": [{"asset": "NBNTEST", "free": "1111078", "locked": "33"}], "permissions": ["SPOT"]}


def parse(data: object) -> KeyProfile:
    p = KeyProfile(exchange="mexc", key="x")
    MexcAdapter().parse(data, p)
    return p


def test_documented_example() -> None:
    # Issue 15 item 2: canTrade/canWithdraw are the ACCOUNT's (MEXC gates a key's withdrawals by its own
    # SPOT_WITHDRAW_WRITE, which no read reports): the key's permissions beyond read are "not said".
    p = parse(DOC_EXAMPLE)
    assert p.permissions == ["read"] and p.other == []
    assert p.account_facts == {"canTrade": True, "canWithdraw": True, "canDeposit": True, "accountType": "SPOT",
                               "permissions": ["SPOT"]}
    # MEXC does not report these for the calling key: "the exchange does not say".
    assert (p.ip_restricted, p.ip_whitelist, p.created_at, p.expires_at, p.is_master) == (None,) * 5
    assert any("90 days" in n and "SPOT_WITHDRAW_WRITE" in n for n in p.notes)


def test_the_user_declaration_is_what_counts_and_is_marked_declared() -> None:
    adapter = MexcAdapter()
    assert adapter.reports_permissions is False
    p = parse(DOC_EXAMPLE)
    adapter.apply_declared(p, None)
    assert (p.permissions, p.permissions_source) == (["read"], "unknown")
    p = parse(DOC_EXAMPLE)
    adapter.apply_declared(p, ["spot_trade", "not-a-permission"])
    assert (p.permissions, p.permissions_source) == (["read", "spot_trade"], "declared")
    assert p.to_json()["account_facts"]["canWithdraw"] is True  # shown, never judged as the key's


def test_read_only_answer() -> None:
    p = parse({**DOC_EXAMPLE, "canTrade": False, "canWithdraw": False, "canDeposit": False, "permissions": []})
    assert p.permissions == ["read"] and p.other == []
    assert p.account_facts == {"canTrade": False, "canWithdraw": False, "canDeposit": False, "accountType": "SPOT"}


def test_account_permissions_are_account_facts() -> None:
    p = parse({"canTrade": "true", "permissions": ["SPOT", "MARGIN", "FUTURES"]})
    assert p.permissions == ["read"] and p.other == []
    assert p.account_facts == {"canTrade": True, "permissions": ["FUTURES", "MARGIN", "SPOT"]}


@pytest.mark.parametrize("data", [{}, {"balances": []}, [], "x"])
def test_undocumented_shapes_are_parse_errors(data: object) -> None:
    with pytest.raises(ParseError):
        parse(data)


@pytest.mark.parametrize(
    ("code", "status"),
    [(10072, Status.INVALID_KEY), (700001, Status.INVALID_KEY), (700002, Status.REJECTED),
     (602, Status.INVALID_SIGNATURE), (700003, Status.CLOCK_SKEW), (700006, Status.IP_NOT_ALLOWED),
     (700007, Status.PERMISSION_DENIED), (429, Status.RATE_LIMITED), (510, Status.RATE_LIMITED)],
)
def test_error_codes(code: int, status: Status) -> None:
    mapped = MexcAdapter().classify(400, {"code": code, "msg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_expired_or_wrong_secret_is_explained() -> None:
    mapped = MexcAdapter().classify(400, {"code": 700002, "msg": "x"}, RuntimeError())
    assert mapped is not None and "expired" in mapped[1] and "90 days" in mapped[1]


def test_other_codes_fall_back() -> None:
    assert MexcAdapter().classify(400, {"code": 30014, "msg": "invalid symbol"}, RuntimeError()) is None
    assert generic_for_rate_limit(MexcAdapter(), 429, json.dumps({"code": 429}))


flags = st.one_of(st.booleans(), st.none(), st.text(max_size=5), st.integers(-1, 2))


@given(flags, flags, flags,
       st.one_of(st.none(), st.lists(st.one_of(st.text(max_size=10), st.integers(), st.none()), max_size=5)))
def test_random_answers_never_crash(trade: object, withdraw: object, deposit: object, perms: object) -> None:
    p = parse({"canTrade": trade, "canWithdraw": withdraw, "canDeposit": deposit, "permissions": perms})
    # Whatever the account flags say, the key is only proven to read.
    assert p.permissions == ["read"] and p.other == []
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    for x in perms or []:
        if isinstance(x, str) and x:
            assert x in p.account_facts["permissions"]
    assert set(p.account_facts) <= set(ACCOUNT_FACTS)
