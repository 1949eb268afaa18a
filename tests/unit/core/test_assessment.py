"""One assessment per key: the exposure-at-incident rule, reminders derived from findings, the summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from keyhygiene.core.assessment import REMINDER_RULES, assess, summarize
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import load_registry
from keyhygiene.core.report.engine import IncidentInfo
from keyhygiene.core.report.model import incident_affects
from keyhygiene.core.rules import RuleContext
from keyhygiene.core.rules.exposure_window import exposed_at
from keyhygiene.core.score import overall_score
from tests.unit.core.rule_factories import LEAK_3COMMAS, NOW, ago, make_key, make_profile, of, share

DAY = timedelta(days=1)
TRADE_IP = {"perms": ("read", "spot_trade"), "ip": True}


def _assess(key, profile, context=None):  # type: ignore[no-untyped-def]
    return assess(key, profile, NOW, policy=Policy(), registry=load_registry(), now=NOW, context=context)


# ---- the one exposure-at-incident rule ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shared", "revoked", "created", "by_exchange", "rotated", "expected"),
    [
        (None, None, None, False, None, "maybe"),  # nothing known: may have been in it
        (LEAK_3COMMAS - DAY, None, None, False, None, "yes"),
        (LEAK_3COMMAS, None, None, False, None, "yes"),  # the leak day counts
        (LEAK_3COMMAS + DAY, None, None, False, None, None),
        (date(2022, 1, 1), LEAK_3COMMAS - DAY, None, False, None, None),  # ended before
        (None, None, LEAK_3COMMAS + DAY, True, None, None),  # the exchange says it did not exist yet
        (None, None, LEAK_3COMMAS + DAY, False, None, None),  # declared so, and nothing says otherwise
        (date(2022, 1, 1), None, LEAK_3COMMAS + DAY, False, None, "yes"),  # two user dates disagree: keep it
        (date(2022, 1, 1), None, LEAK_3COMMAS + DAY, True, None, None),  # the exchange's date settles it
        # A completed rotation ended the sharing: it held the replaced key, not this one.
        (date(2022, 1, 1), date(2026, 5, 1), LEAK_3COMMAS + 1200 * DAY, False, date(2026, 5, 1), None),
        (date(2022, 1, 1), date(2026, 5, 1), None, False, date(2026, 4, 30), "yes"),  # ended after the rotation
    ],
)
def test_exposed_at(shared, revoked, created, by_exchange, rotated, expected) -> None:  # type: ignore[no-untyped-def]
    assert exposed_at(LEAK_3COMMAS, LEAK_3COMMAS, shared_at=shared, revoked_at=revoked, created=created,
                      created_by_exchange=by_exchange, rotated_on=rotated) == expected


def test_the_report_asks_the_same_rule() -> None:
    inc = IncidentInfo(date=LEAK_3COMMAS, title="API-key leak")
    assert incident_affects(inc, None, None)  # unknown share date: may have been in it
    assert not incident_affects(inc, None, None, created=LEAK_3COMMAS + DAY, created_by_exchange=True)
    assert incident_affects(inc, date(2022, 1, 1), None, created=LEAK_3COMMAS + DAY, created_by_exchange=False)


# ---- incidents and reminders come from the findings ---------------------------------------------------------
def test_incidents_and_reminders_are_the_findings() -> None:
    key = make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 1, 1)),
                                                     share("cointracker", date(2021, 1, 1))])
    a = _assess(key, make_profile(**TRADE_IP))
    leak = of(a.findings, "shared_with_leaked_service")
    assert [f.severity for f in leak] == ["critical"]
    # CoinTracker's 2021 incident was no key leak and no breach: no finding names it, so it touches nothing.
    assert a.incident_services == frozenset({"3commas"})
    assert {i.id for i in a.incidents} >= {"3commas-2022-12-key-leak"}
    assert a.incidents[0].severity == "critical"
    for r in a.reminders:
        assert r.rule in REMINDER_RULES
        assert any((f.rule, f.severity, f.title) == (r.rule, r.severity, r.title) for f in a.findings)
    assert a.reminders and all(r.key_id == key.id for r in a.reminders)
    assert {"shared_with_leaked_service", "too_old"} <= {r.rule for r in a.reminders}


def test_no_finding_no_reminder() -> None:
    # A rotation due soon is an info note, not a reminder; a young tidy key reminds of nothing.
    policy = Policy()
    young = make_key(created=ago(policy.max_age_days - 3))
    a = _assess(young, make_profile(**TRADE_IP))
    assert [f.severity for f in of(a.findings, "too_old")] == ["info"]
    assert a.reminders == ()


def test_a_key_that_is_not_active_reminds_of_nothing() -> None:
    key = replace(make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 1, 1))]), state="retired")
    a = _assess(key, make_profile(**TRADE_IP))
    assert a.findings and a.reminders == ()


def test_a_rotation_takes_the_old_sharings_out_of_the_new_key() -> None:
    # What a completed rotation leaves: the sharing ended that day, the creation date is the rotation's own.
    rotated = NOW.date() - 2 * DAY
    key = make_key(created=ago(2), exposures=[share("3commas", date(2022, 1, 1), rotated)])
    before = _assess(key, make_profile(**TRADE_IP))
    assert [f.severity for f in of(before.findings, "shared_with_leaked_service")] == ["critical"]
    after = _assess(key, make_profile(**TRADE_IP), RuleContext(rotated_on={key.id: rotated}))
    assert of(after.findings, "shared_with_leaked_service") == [] and after.incident_services == frozenset()
    assert not any(r.kind == "incident" for r in after.reminders)


# ---- the summary ---------------------------------------------------------------------------------------------
def test_summary_headline_counts_and_json() -> None:
    leaked = _assess(make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 1, 1))], key_id="k1"),
                     make_profile(**TRADE_IP))
    tidy = _assess(make_key(created=ago(10), key_id="k2"), make_profile())
    s = summarize([leaked, tidy])
    assert s.headline == "1 of 2 keys need attention" and s.needs_attention == 1
    assert s.score == overall_score([leaked.score, tidy.score]) < tidy.score
    doc = s.to_json()
    assert set(doc) == {"schema_version", "score", "keys", "needs_attention", "findings", "reminders"}
    assert doc["findings"]["critical"] == 1 and sum(doc["findings"].values()) == len(leaked.findings) + len(
        tidy.findings)
    assert doc["reminders"][0]["severity"] == "critical" and doc["reminders"][0]["key_id"] == "k1"
    assert s.reaches("critical") and summarize([tidy]).headline in ("No urgent problems",
                                                                    "Every key follows your policy")
    old = _assess(make_key(created=ago(200), key_id="k3"), make_profile())  # past the age limit: medium
    assert summarize([old]).headline == "No urgent problems \u00b7 1 reminder"
    assert summarize([]).headline == "No keys yet" and summarize([]).score == 100
