from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.gate import TABLE, GateAdapter, select_own
from tests.helpers.sim_force import generic_for_rate_limit

API_KEY = "c5dcfbf1f3a7" + "0123456789abcdef0123"
# The documented example (Gate APIv4 docs, "Query All Main Account Key Information"): an array of the main
# account's keys with masked keys and second timestamps.
DOC_EXAMPLE = [
    {"state": 1, "mode": 1, "name": "test1", "user_id": 1,
     "perms": [{"name": "account", "read_only": False}, {"name": "spot", "read_only": False}],
     "ip_whitelist": [], "currency_pairs": ["BTC_USD", "ETH_USD"], "key": "c5dcfbf1f3a7*****",
     "created_at": 1753030929, "update_at": 1756300567, "last_access": 1753030929},
    {"state": 1, "mode": 1, "name": "test2", "user_id": 1,
     "perms": [{"name": "spot", "read_only": False}, {"name": "account", "read_only": False}],
     "ip_whitelist": [], "currency_pairs": ["BTC_USD", "ETH_USD"], "key": "52fd0035f665*****",
     "created_at": 1753897991, "update_at": 1756300567, "last_access": 1753897991},
]


def parse(entry: dict) -> KeyProfile:
    p = KeyProfile(exchange="gate", key="x")
    GateAdapter().parse(entry, p)
    return p


def test_documented_example_selects_the_calling_key_and_maps_it() -> None:
    entry = select_own(DOC_EXAMPLE, API_KEY)
    assert entry["name"] == "test1"
    p = parse(entry)
    assert p.permissions == ["margin_trade", "read", "spot_trade"]
    assert p.other == ["account.write"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at == datetime(2025, 7, 20, 17, 2, 9, tzinfo=UTC)
    assert p.last_used_at == datetime(2025, 7, 20, 17, 2, 9, tzinfo=UTC)
    assert p.expires_at is None and p.trade_expires_at is None and p.is_master is None
    assert any("BTC_USD, ETH_USD" in n for n in p.notes)


def test_sdk_object_form_is_the_key_itself() -> None:
    # gateapi-python AccountKeyInfo: one object, key = {mode}, updated_at, times as strings.
    obj = {"state": 3, "mode": 2, "name": ["x"], "user_id": 9, "ip_whitelist": ["1.2.3.4"],
           "perms": [{"name": "wallet", "read_only": False}, {"name": "futures", "read_only": True}],
           "key": {"mode": 2}, "created_at": "1753030929", "updated_at": "1756300567", "last_access": "1756300567"}
    p = parse(select_own(obj, API_KEY))
    assert p.permissions == ["read", "transfer"]
    assert p.ip_restricted is True and p.ip_whitelist == ["1.2.3.4"]
    assert p.created_at == datetime(2025, 7, 20, 17, 2, 9, tzinfo=UTC)
    assert any("frozen" in n for n in p.notes)


def test_a_key_not_in_the_list_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        select_own(DOC_EXAMPLE, "ffffffffffff" + "0" * 20)
    with pytest.raises(ParseError):
        select_own("nonsense", API_KEY)


@pytest.mark.parametrize(
    ("name", "perms"),
    [("spot", {"spot_trade", "margin_trade"}), ("margin", {"margin_trade"}), ("futures", {"futures_trade"}),
     ("delivery", {"futures_trade"}), ("options", {"options_trade"}), ("wallet", {"transfer"}),
     ("withdrawal", {"withdraw"})],
)
def test_each_read_write_group_maps_to_its_permission(name: str, perms: set[str]) -> None:
    p = parse({"perms": [{"name": name, "read_only": False}]})
    assert set(p.permissions) == perms | {"read"}
    ro = parse({"perms": [{"name": name, "read_only": True}]})
    assert ro.permissions == ["read"]


def test_write_groups_outside_the_vocabulary_stay_raw() -> None:
    p = parse({"perms": [{"name": "earn", "read_only": False}, {"name": "copy", "read_only": False},
                         {"name": "newthing", "read_only": False}]})
    assert p.permissions == ["read"]
    assert p.other == ["copy.write", "earn.write", "newthing.read", "newthing.write"]


def test_millisecond_and_iso_times_are_understood() -> None:
    p = parse({"perms": [], "created_at": 1753030929000, "last_access": "2025-07-20T17:02:09Z"})
    assert p.created_at == p.last_used_at == datetime(2025, 7, 20, 17, 2, 9, tzinfo=UTC)


def test_no_perms_field_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse({"state": 1})


@pytest.mark.parametrize(
    ("label", "status"),
    [("INVALID_KEY", Status.INVALID_KEY), ("INVALID_SIGNATURE", Status.INVALID_SIGNATURE),
     ("IP_FORBIDDEN", Status.IP_NOT_ALLOWED), ("FORBIDDEN", Status.PERMISSION_DENIED),
     ("READ_ONLY", Status.PERMISSION_DENIED), ("REQUEST_EXPIRED", Status.CLOCK_SKEW),
     ("INVALID_CREDENTIALS", Status.REJECTED), ("MISSING_REQUIRED_HEADER", Status.REJECTED),
     ("ACCOUNT_LOCKED", Status.REJECTED), ("TOO_MANY_REQUESTS", Status.RATE_LIMITED)],
)
def test_error_labels(label: str, status: Status) -> None:
    mapped = GateAdapter().classify(401, {"label": label, "message": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status and mapped[1]


def test_unknown_label_falls_back_to_the_generic_mapping() -> None:
    assert GateAdapter().classify(400, {"label": "ORDER_NOT_FOUND"}, RuntimeError()) is None
    assert generic_for_rate_limit(GateAdapter(), 429, json.dumps({"label": "TOO_MANY_REQUESTS"}))


names = st.one_of(st.sampled_from([g.split(".", 1)[0] for g in TABLE.grants]), st.text(max_size=10))
perm = st.fixed_dictionaries({"name": names, "read_only": st.one_of(st.booleans(), st.none(), st.text(max_size=3))})
times = st.one_of(st.none(), st.integers(-10, 10**13), st.text(max_size=20), st.floats(allow_nan=True))


@given(st.lists(st.one_of(perm, st.integers(), st.none()), max_size=10),
       st.one_of(st.none(), st.lists(st.text(max_size=15), max_size=4), st.text(max_size=30)), times, times,
       st.one_of(st.none(), st.integers(), st.text(max_size=3)))
def test_random_entries_never_crash(perms: list, ips: object, created: object, last: object, state: object) -> None:
    p = parse({"perms": perms, "ip_whitelist": ips, "created_at": created, "last_access": last, "state": state})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions)
    for entry in perms:
        if isinstance(entry, dict) and entry["name"] and f"{entry['name']}.read" not in TABLE.grants:
            assert f"{entry['name']}.read" in p.other
