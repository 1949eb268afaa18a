"""Permission rules: withdrawal, IP restriction, transfers, excess permission, unknown permissions."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest

from keyhygiene.core.models import PURPOSES, Status
from keyhygiene.core.rules import blast_radius
from keyhygiene.core.severity import Severity
from keyhygiene.exchanges.catalog import SUPPORTED
from tests.unit.core.rule_factories import ago, make_key, make_profile, of, one, run, share, worst

# ---- withdraw_enabled / no_ip_restriction / transfer_enabled -----------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "shared", "severity"),
    [(True, False, "medium"), (False, False, "high"), (None, False, "high"), (True, True, "high")],
)
def test_withdraw_enabled(ip: bool | None, shared: bool, severity: str) -> None:
    exposures = [share("bitsgap", date(2025, 1, 1))] if shared else []
    key = make_key(purpose="other", exposures=exposures)
    f = one(run(key, make_profile(perms=("read", "withdraw"), ip=ip)), "withdraw_enabled")
    assert f.severity == severity


def test_no_withdraw_no_withdraw_finding() -> None:
    assert of(run(make_key(), make_profile(perms=("read", "spot_trade"))), "withdraw_enabled") == []


@pytest.mark.parametrize(
    ("perms", "ip", "severity"),
    [
        (("read", "withdraw"), False, "critical"),
        (("read", "spot_trade", "withdraw"), False, "critical"),
        (("read", "spot_trade"), False, "high"),
        (("read", "futures_trade"), False, "high"),
        (("read", "spot_trade"), None, "info"),
        (("read", "spot_trade"), True, None),
        (("read",), False, None),
        (("read", "transfer"), False, None),  # transfers have their own rule
    ],
)
def test_no_ip_restriction(perms: tuple[str, ...], ip: bool | None, severity: str | None) -> None:
    found = of(run(make_key(purpose="other"), make_profile(perms=perms, ip=ip)), "no_ip_restriction")
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_withdraw_without_ip_restriction_is_at_least_high_overall() -> None:
    findings = run(make_key(purpose="other"), make_profile(perms=("read", "withdraw"), ip=False))
    assert worst(findings).at_least(Severity.HIGH)  # type: ignore[union-attr]


def test_trade_without_ip_explains_the_3commas_pattern() -> None:
    f = one(run(make_key(), make_profile(perms=("read", "spot_trade"), ip=False)), "no_ip_restriction")
    assert "illiquid" in f.detail and "IP whitelist would have blocked" in f.detail


def test_a_whitelist_counts_as_restriction_even_without_the_flag() -> None:
    profile = make_profile(perms=("read", "spot_trade"), ip=None, whitelist=("198.51.100.1",))
    assert of(run(make_key(), profile), "no_ip_restriction") == []


@pytest.mark.parametrize(("ip", "severity"), [(True, "low"), (None, "low"), (False, "medium")])
def test_transfer_enabled(ip: bool | None, severity: str) -> None:
    f = one(run(make_key(purpose="other"), make_profile(perms=("read", "transfer"), ip=ip)), "transfer_enabled")
    assert f.severity == severity


# ---- excess_permission: every purpose against every permission set ----------------------------------------------

TRADE = {"spot_trade", "margin_trade", "futures_trade", "options_trade"}
# Written independently of core/rules/purposes.py: what each purpose may hold without a finding.
MAY_HOLD = {
    "read-only": {"read"},
    "tax": {"read"},
    "bot": {"read"} | TRADE,
    "trading": {"read", "transfer"} | TRADE,
    "other": None,
}
BASE = ("spot_trade", "margin_trade", "futures_trade", "options_trade", "withdraw", "transfer")
PERMISSION_SETS = [frozenset({"read", *c}) for n in range(len(BASE) + 1) for c in combinations(BASE, n)]


def expected_excess(purpose: str, perms: frozenset[str]) -> str | None:
    allowed = MAY_HOLD[purpose]
    if allowed is None:
        return None
    extra = perms - allowed
    if extra & (TRADE | {"withdraw"}):
        return "high"
    if "transfer" in extra:
        return "medium"
    return None


def test_the_matrix_covers_every_purpose() -> None:
    assert set(MAY_HOLD) == set(PURPOSES)
    assert len(PERMISSION_SETS) == 64


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("perms", PERMISSION_SETS, ids=lambda p: "+".join(sorted(p)))
def test_excess_permission_matrix(purpose: str, perms: frozenset[str]) -> None:
    found = of(run(make_key(purpose=purpose), make_profile(perms=perms)), "excess_permission")
    expected = expected_excess(purpose, perms)
    assert [f.severity for f in found] == ([expected] if expected else [])
    if found:
        assert set(found[0].evidence["excess"]) == perms - MAY_HOLD[purpose]  # type: ignore[operator]


def test_a_tax_key_that_can_trade_is_flagged_high() -> None:
    f = one(run(make_key(purpose="tax"), make_profile(perms=("read", "spot_trade"))), "excess_permission")
    assert f.severity == "high"
    assert "tax key" in f.title and "spot trading" in f.detail


def test_the_services_a_key_is_given_to_narrow_what_it_may_hold() -> None:
    # Purpose "other" says nothing, but Koinly only reads: a trading right is excess.
    key = make_key(purpose="other", exposures=[share("koinly", date(2025, 1, 1))])
    f = one(run(key, make_profile(perms=("read", "spot_trade"))), "excess_permission")
    assert f.severity == "high" and "Koinly needs only read" in f.detail
    # A bot service needs trading: no excess for a trading key given to it.
    bot = make_key(purpose="other", exposures=[share("3commas", date(2025, 1, 1))])
    assert of(run(bot, make_profile(perms=("read", "spot_trade"))), "excess_permission") == []


def test_ended_sharing_no_longer_narrows_permissions() -> None:
    key = make_key(purpose="other", exposures=[share("koinly", date(2024, 1, 1), date(2024, 5, 1))])
    assert of(run(key, make_profile(perms=("read", "spot_trade"))), "excess_permission") == []


# ---- unknown and declared permissions ----------------------------------------------------------------------------

def test_declared_permissions_are_used_and_labelled() -> None:
    key = make_key("poloniex", purpose="tax", declared=["read", "spot_trade"])
    profile = make_profile("poloniex", perms=("read", "spot_trade"), ip=None, whitelist=None, source="declared")
    findings = run(key, profile)
    assert one(findings, "permissions_unknown").severity == "info"
    excess = one(findings, "excess_permission")
    assert "as you declared them" in excess.detail
    assert blast_radius(key, profile).startswith("Going by the permissions you declared")


def test_permissions_the_exchange_cannot_report_are_unknown_not_fine() -> None:
    key = make_key("poloniex", purpose="bot")
    profile = make_profile("poloniex", perms=(), ip=None, whitelist=None, source="unknown")
    findings = run(key, profile)
    assert one(findings, "permissions_unknown").title == "Permissions unknown"
    assert blast_radius(key, profile).startswith("Unknown")
    assert of(findings, "excess_permission") == [] and of(findings, "withdraw_enabled") == []


def test_reported_permissions_are_not_unknown() -> None:
    assert of(run(make_key(), make_profile()), "permissions_unknown") == []


# ---- the tidy key ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("exchange", SUPPORTED)
@pytest.mark.parametrize("purpose", ["read-only", "tax"])
def test_young_unshared_ip_restricted_read_only_key_has_nothing_above_info(exchange: str, purpose: str) -> None:
    key = make_key(exchange, purpose=purpose, created=ago(10))
    findings = run(key, make_profile(exchange, perms=("read",), ip=True, created=ago(10)))
    assert all(f.severity == "info" for f in findings), [(f.rule, f.severity) for f in findings]
    assert "cannot move funds" in blast_radius(key, make_profile(exchange))


def test_rejected_key_has_no_permission_findings_from_declared_permissions() -> None:
    key = make_key(purpose="tax", declared=["read", "withdraw"])
    findings = run(key, make_profile(status=Status.INVALID_SIGNATURE, perms=()))
    assert of(findings, "withdraw_enabled") == [] and of(findings, "excess_permission") == []


@pytest.mark.parametrize("exchange", ["okx", "htx"])
def test_transfers_bundled_into_the_trade_right_are_not_flagged(exchange: str) -> None:
    # OKX and HTX have one trade right that also moves funds between own accounts: not separately switchable.
    key = make_key(exchange, purpose="bot")
    findings = run(key, make_profile(exchange, perms=("read", "spot_trade", "futures_trade", "transfer")))
    assert of(findings, "transfer_enabled") == [] and of(findings, "excess_permission") == []
    # A tax key on the same exchange still has trading (and so transfers) it does not need.
    tax = one(run(make_key(exchange, purpose="tax"),
                  make_profile(exchange, perms=("read", "spot_trade", "transfer"))), "excess_permission")
    assert tax.severity == "high" and "transfer" not in tax.evidence["excess"]
    # Elsewhere a transfer right on a bot key is its own switch and is flagged.
    assert of(run(make_key("binance", purpose="bot"), make_profile(perms=("read", "spot_trade", "transfer"))),
              "transfer_enabled") != []


def test_excess_title_names_the_service_that_needs_less() -> None:
    day = date(2025, 1, 1)
    key = make_key(purpose="other", exposures=[share("koinly", day), share("coinledger", day)])
    f = one(run(key, make_profile(perms=("read", "spot_trade"))), "excess_permission")
    assert f.title == "More permission than CoinLedger and Koinly need"
    solo = make_key(purpose="other", exposures=[share("koinly", date(2025, 1, 1))])
    assert one(run(solo, make_profile(perms=("read", "spot_trade"))), "excess_permission").title == \
        "More permission than Koinly needs"
    tax = one(run(make_key(purpose="tax"), make_profile(perms=("read", "spot_trade"))), "excess_permission")
    assert tax.title == "More permission than a tax key needs"
