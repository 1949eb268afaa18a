"""Status rules (rejected, not checked), the last-good fallback, finding order, and the blast radius."""

from __future__ import annotations

import pytest

from keyhygiene.core.models import AUTH_REJECTIONS, KeyProfile, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import load_registry
from keyhygiene.core.rules import RULE_IDS, RuleContext, blast_radius, build_facts
from keyhygiene.core.rules.blast import blast_radius_of
from keyhygiene.core.severity import Severity
from tests.unit.core.rule_factories import NOW, ago, make_key, make_profile, of, one, run

EXPECTED_REJECTION = {
    Status.IP_NOT_ALLOWED: "low",
    Status.PERMISSION_DENIED: "low",
    Status.INVALID_KEY: "medium",
    Status.INVALID_SIGNATURE: "medium",
    Status.INVALID_PASSPHRASE: "medium",
    Status.REJECTED: "medium",
}


def test_every_auth_rejection_is_covered() -> None:
    assert set(EXPECTED_REJECTION) == set(AUTH_REJECTIONS)


@pytest.mark.parametrize("status", sorted(AUTH_REJECTIONS))
def test_key_rejected(status: Status) -> None:
    findings = run(make_key(), make_profile(status=status, perms=()))
    f = one(findings, "key_rejected")
    assert f.severity == EXPECTED_REJECTION[status]
    assert "test message" in f.detail  # the exchange's (already scrubbed) message is the evidence
    assert of(findings, "inspection_failed") == []


@pytest.mark.parametrize("status", [Status.UNREACHABLE, Status.RATE_LIMITED, Status.CLOCK_SKEW, Status.ERROR])
def test_a_failed_check_is_info_only(status: Status) -> None:
    findings = run(make_key(), make_profile(status=status, perms=()))
    assert one(findings, "inspection_failed").severity == "info"
    assert of(findings, "key_rejected") == []


def test_never_inspected() -> None:
    f = one(run(make_key(), None), "inspection_failed")
    assert f.title == "Not checked yet"
    assert blast_radius(make_key(), None).startswith("Unknown")


def _last_good() -> RuleContext:
    good = make_profile(perms=("read", "withdraw"), ip=False)
    return RuleContext(last_good={"k0000001": (ago(3), good)})


def test_when_the_exchange_cannot_be_reached_the_last_answer_still_counts() -> None:
    findings = run(make_key(purpose="bot"), make_profile(status=Status.UNREACHABLE, perms=()), context=_last_good())
    f = one(findings, "withdraw_enabled")
    assert "as the exchange reported on" in f.detail
    assert one(findings, "no_ip_restriction").severity == "critical"
    assert "answer of" in one(findings, "inspection_failed").detail


def test_a_rejected_key_does_not_inherit_its_last_answer() -> None:
    findings = run(make_key(), make_profile(status=Status.INVALID_KEY, perms=()), context=_last_good())
    assert of(findings, "withdraw_enabled") == [] and of(findings, "no_ip_restriction") == []


def test_blast_radius_from_facts_uses_the_last_answer() -> None:
    facts = build_facts(make_key(), make_profile(status=Status.UNREACHABLE, perms=()), policy=Policy(),
                        registry=load_registry(), now=NOW, context=_last_good())
    assert "withdraw your funds" in blast_radius_of(facts)


def test_findings_come_worst_first() -> None:
    key = make_key(purpose="tax", created=ago(200))
    findings = run(key, make_profile(perms=("read", "spot_trade", "withdraw"), ip=False))
    ranks = [Severity(f.severity).rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    assert {f.rule for f in findings} <= set(RULE_IDS)


def test_every_finding_has_title_detail_and_fix() -> None:
    key = make_key("okx", purpose="tax", created=ago(400))
    for profile in (make_profile("okx", perms=("read", "spot_trade", "withdraw", "transfer"), ip=False),
                    make_profile("okx", status=Status.INVALID_PASSPHRASE, perms=()), None):
        for f in run(key, profile):
            assert f.title and f.detail.endswith((".", ")")) and f.fix
            assert f.to_json().keys() == {"rule", "severity", "title", "detail", "fix"}


# ---- blast radius -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("profile", "must", "must_not"),
    [
        (make_profile(perms=("read", "withdraw"), ip=False), ["withdraw your funds", "from any computer"], []),
        (make_profile(perms=("read", "spot_trade"), ip=False), ["illiquid", "3Commas"], ["withdraw your"]),
        (make_profile(perms=("read", "spot_trade"), ip=True), ["1 whitelisted IP address", "blocks"], []),
        (make_profile(perms=("read", "futures_trade"), ip=False), ["leveraged"], []),
        (make_profile(perms=("read",), ip=True), ["cannot move funds"], ["trade"]),
        (make_profile(perms=("read",), ip=None), ["does not say whether"], []),
        (make_profile(status=Status.INVALID_KEY, perms=()), ["Nothing today"], []),
        (make_profile(status=Status.IP_NOT_ALLOWED, perms=()), ["whitelisted addresses"], []),
        (make_profile(status=Status.UNREACHABLE, perms=()), ["Unknown"], []),
    ],
)
def test_blast_radius_sentences(profile: KeyProfile, must: list[str], must_not: list[str]) -> None:
    text = blast_radius(make_key(), profile)
    for m in must:
        assert m in text
    for m in must_not:
        assert m not in text
