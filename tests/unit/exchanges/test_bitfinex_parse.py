from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.bitfinex import TABLE, BitfinexAdapter
from tests.helpers.sim_force import generic_for_rate_limit

# The reference's example answer of POST /v2/auth/r/permissions.
DOC_EXAMPLE = [["account", 1, 0], ["history", 1, 0], ["orders", 1, 1], ["positions", 1, 0], ["funding", 1, 0],
               ["settings", 1, 0], ["wallets", 1, 0], ["withdraw", 0, 0]]


def parse(data: object) -> KeyProfile:
    p = KeyProfile(exchange="bitfinex", key="x")
    BitfinexAdapter().parse(data, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_EXAMPLE)
    # Orders write places exchange, margin and derivative orders alike.
    assert p.permissions == ["futures_trade", "margin_trade", "read", "spot_trade"]
    assert p.other == []
    assert p.ip_restricted is None and p.ip_whitelist is None and p.created_at is None and p.is_master is None
    assert p.notes


@pytest.mark.parametrize(
    ("scope", "perms", "other"),
    [("orders", {"spot_trade", "margin_trade", "futures_trade"}, []),
     ("positions", {"margin_trade", "futures_trade"}, []),
     ("wallets", {"transfer"}, []), ("withdraw", {"withdraw"}, []),
     ("funding", set(), ["funding.write"]), ("ui_withdraw", set(), ["ui_withdraw.write"]),
     ("bfxpay", set(), ["bfxpay.write"]), ("settings", set(), ["settings.write"])],
)
def test_each_write_scope(scope: str, perms: set[str], other: list[str]) -> None:
    p = parse([[scope, 0, 1]])
    assert set(p.permissions) == perms and p.other == other


def test_read_only_key() -> None:
    p = parse([[s, 1, 0] for s in ("account", "orders", "wallets", "withdraw")])
    assert p.permissions == ["read"] and p.other == []


def test_legacy_v1_object_form() -> None:
    p = parse({"account": {"read": True, "write": False}, "withdraw": {"read": True, "write": True}})
    assert p.permissions == ["read", "withdraw"]


def test_unknown_scope_is_reported_raw() -> None:
    p = parse([["loans", 1, 1]])
    assert p.permissions == [] and p.other == ["loans.read", "loans.write"]


@pytest.mark.parametrize("data", [{}, "x", [["orders", 1]], [[1, 1, 1]], ["error", 10100, "apikey: invalid"]])
def test_undocumented_shapes_are_parse_errors(data: object) -> None:
    with pytest.raises(ParseError):
        parse(data)


@pytest.mark.parametrize(
    ("body", "status"),
    [(["error", 10100, "apikey: invalid"], Status.REJECTED),
     (["error", 10100, "apikey: digest invalid"], Status.INVALID_SIGNATURE),
     (["error", 10001, "api_key: permission invalid"], Status.PERMISSION_DENIED),
     (["error", 10114, "nonce: small"], Status.CLOCK_SKEW),
     (["error", 11010, "ratelimit: error"], Status.RATE_LIMITED),
     ({"error": "ERR_RATE_LIMIT"}, Status.RATE_LIMITED)],
)
def test_error_bodies(body: object, status: Status) -> None:
    mapped = BitfinexAdapter().classify(500, body, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_unknown_errors_fall_back() -> None:
    a = BitfinexAdapter()
    assert a.classify(500, ["error", 20060, "maintenance"], RuntimeError()) is None
    assert a.classify(500, {"error": "Internal Server Error"}, RuntimeError()) is None
    assert generic_for_rate_limit(a, 429, json.dumps(["error", 11010, "ratelimit: error"]))


scopes = st.one_of(st.sampled_from([g.split(".", 1)[0] for g in TABLE.grants]), st.text(max_size=8))
flags = st.one_of(st.integers(-1, 2), st.booleans(), st.none(), st.text(max_size=2))


@given(st.lists(st.tuples(scopes, flags, flags), max_size=12))
def test_random_rows_never_crash(rows: list[tuple[str, object, object]]) -> None:
    p = parse([list(r) for r in rows])
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions)
    for scope, read, write in rows:
        for flag, kind in ((read, "read"), (write, "write")):
            token = f"{scope}.{kind}"
            if flag in (1, True, "1") and token not in TABLE.grants:
                assert token in p.other
