"""Time rules: maximum age (89/90/91 days), expiry of key and trading right, exchange lifetime rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keyhygiene.core.policy import Policy
from tests.unit.core.rule_factories import NOW, ago, make_key, make_profile, of, one, run

TRADE_NO_IP = {"perms": ("read", "spot_trade"), "ip": False}


# ---- too_old ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("age", "severity", "title"),
    [
        (30, None, None),
        (76, None, None),  # 14 days before the limit is still outside the warning window
        (77, "info", "Rotation due in 13 days"),
        (89, "info", "Rotation due in 1 day"),
        (90, "info", "Rotation due today"),
        (91, "medium", "Older than 90 days"),
        (360, "medium", "Older than 90 days"),
        (361, "high", "Older than 90 days"),  # more than four times the limit: neglected
    ],
)
def test_too_old_boundaries(age: int, severity: str | None, title: str | None) -> None:
    found = of(run(make_key(created=ago(age)), make_profile()), "too_old")
    assert [(f.severity, f.title) for f in found] == ([(severity, title)] if severity else [])


def test_age_counts_whole_days() -> None:
    # 90 days and 23 hours is still 90 whole days: not yet older than 90.
    found = one(run(make_key(created=NOW - timedelta(days=90, hours=23)), make_profile()), "too_old")
    assert found.severity == "info"


def test_the_policy_sets_the_limit() -> None:
    key = make_key(created=ago(31))
    f = one(run(key, make_profile(), policy=Policy(max_age_days=30)), "too_old")
    assert f.severity == "medium" and f.title == "Older than 30 days"


def test_exchange_creation_date_beats_the_declared_one_and_says_so() -> None:
    key = make_key(created=ago(10))
    f = one(run(key, make_profile(created=ago(200))), "too_old")
    assert "200 days old" in f.detail and "as Binance reports" in f.detail


def test_without_creation_date_the_day_added_is_a_lower_bound() -> None:
    key = make_key(created=None, added=ago(120))
    f = one(run(key, make_profile()), "too_old")
    assert f.severity == "medium" and "may be older" in f.detail


# ---- expiring / expired -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("days_left", "flagged"), [(13, True), (14, True), (15, False)])
def test_key_expiring_within_the_warning_window(days_left: int, flagged: bool) -> None:
    profile = make_profile("bybit", ip=True, expires_at=NOW + timedelta(days=days_left))
    found = of(run(make_key("bybit"), profile), "expiring")
    assert [f.severity for f in found] == (["low"] if flagged else [])
    if flagged:
        assert found[0].title == f"Key expires in {days_left} days"
    assert of(run(make_key("bybit"), profile), "expired") == []


def test_key_expired() -> None:
    profile = make_profile("kraken", expires_at=NOW - timedelta(hours=1))
    f = one(run(make_key("kraken"), profile), "expired")
    assert f.severity == "medium" and f.evidence["what"] == "key"
    assert of(run(make_key("kraken"), profile), "expiring") == []


def test_trade_permission_expiring_and_expired_on_binance() -> None:
    soon = make_profile(perms=("read", "spot_trade"), ip=False, trade_expires_at=NOW + timedelta(days=3))
    f = one(run(make_key(), soon), "expiring")
    assert f.title == "Trading permission expires in 3 days" and f.evidence["what"] == "trade"
    gone = make_profile(perms=("read", "spot_trade"), ip=False, trade_expires_at=NOW - timedelta(days=3))
    f = one(run(make_key(), gone), "expired")
    assert f.severity == "low" and "30 days after trading is enabled" in f.detail


def test_expiry_window_follows_the_policy() -> None:
    profile = make_profile("bybit", expires_at=NOW + timedelta(days=20))
    assert of(run(make_key("bybit"), profile), "expiring") == []
    assert of(run(make_key("bybit"), profile, policy=Policy(expiry_warning_days=30)), "expiring") != []


# ---- exchange lifetime rules --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("exchange", "perms", "ip", "hit"),
    [
        ("okx", ("read", "spot_trade"), False, True),
        ("okx", ("read", "withdraw"), False, True),
        ("okx", ("read",), False, False),  # read-only keys are not deleted
        ("okx", ("read", "spot_trade"), True, False),  # IP-bound keys are not deleted
        ("okx", ("read", "spot_trade"), None, False),  # unknown IP state: do not claim the rule applies
        ("bingx", ("read", "futures_trade"), False, True),
        ("bingx", ("read", "transfer"), False, True),
        ("bingx", ("read",), False, False),
        ("binance", ("read",), False, True),
        ("kraken", ("read", "spot_trade"), False, False),  # no such rule known for Kraken
    ],
)
def test_inactivity_rules(exchange: str, perms: tuple[str, ...], ip: bool | None, hit: bool) -> None:
    found = of(run(make_key(exchange), make_profile(exchange, perms=perms, ip=ip)), "inactivity_deletion")
    assert bool(found) is hit
    if hit:
        assert found[0].severity == "info"
        assert found[0].evidence["days"] in (14, 30)


def test_unverified_exchange_rules_are_worded_as_reports() -> None:
    binance = one(run(make_key("binance"), make_profile("binance", **TRADE_NO_IP)), "inactivity_deletion")
    assert "reportedly" in binance.detail and binance.evidence["verified"] is False
    bingx = one(run(make_key("bingx"), make_profile("bingx", **TRADE_NO_IP)), "inactivity_deletion")
    assert "says it" in bingx.detail and "bingx.com" in bingx.detail


def test_okx_14_day_rule_rests_on_okx_docs_v5() -> None:
    """Issue 15 item 3: docs-v5 "API key security": keys not linked to an IP address with trade or withdraw
    permissions expire after 14 days of inactivity."""
    okx = one(run(make_key("okx"), make_profile("okx", **TRADE_NO_IP)), "inactivity_deletion")
    assert okx.evidence["verified"] is True and "says it" in okx.detail
    assert "okx.com/docs-v5" in okx.detail and "reportedly" not in okx.detail
    assert okx.evidence["days"] == 14


@pytest.mark.parametrize("exchange", ["htx", "mexc"])
@pytest.mark.parametrize(
    ("age", "severity", "title_start"),
    [(30, "info", "Expires on"), (80, "low", "Expires in 10 days"), (100, "low", "Should have expired")],
)
def test_ninety_day_expiry_of_keys_without_ip(exchange: str, age: int, severity: str, title_start: str) -> None:
    key = make_key(exchange, created=ago(age))
    f = one(run(key, make_profile(exchange, perms=("read",), ip=False)), "inactivity_deletion")
    assert f.severity == severity and f.title.startswith(title_start)


def test_ninety_day_rule_is_silent_when_the_exchange_reports_the_expiry_itself() -> None:
    key = make_key("htx", created=ago(30))
    profile = make_profile("htx", perms=("read",), ip=False, expires_at=NOW + timedelta(days=60))
    assert of(run(key, profile), "inactivity_deletion") == []


def test_ninety_day_rule_without_creation_date_still_warns() -> None:
    key = make_key("mexc", created=None)
    f = one(run(key, make_profile("mexc", perms=("read",), ip=False)), "inactivity_deletion")
    assert f.severity == "info" and "will expire" in f.detail


def test_bybit_unbound_key_without_reported_expiry() -> None:
    f = one(run(make_key("bybit"), make_profile("bybit", **TRADE_NO_IP)), "inactivity_deletion")
    assert f.severity == "info"
    reported = make_profile("bybit", expires_at=NOW + timedelta(days=60), **TRADE_NO_IP)
    assert of(run(make_key("bybit"), reported), "inactivity_deletion") == []
