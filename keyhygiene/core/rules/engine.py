"""Run every rule over one key and put the findings in a stable order: worst first, then by rule id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import Registry
from keyhygiene.core.rules import exposure_rules, lifetime_rules, permission_rules, status_rules
from keyhygiene.core.rules.base import Rule
from keyhygiene.core.rules.facts import KeyFacts, RuleContext, build_facts
from keyhygiene.core.severity import Severity

RULES: tuple[Rule, ...] = (
    *exposure_rules.RULES,
    *permission_rules.RULES,
    *lifetime_rules.RULES,
    *status_rules.RULES,
)
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)


def evaluate(
    key: KeyRecord,
    profile: KeyProfile | None,
    *,
    policy: Policy,
    registry: Registry,
    now: datetime,
    context: RuleContext | None = None,
) -> list[Finding]:
    """Every finding for one key. ``profile`` is the latest inspection (None: never inspected)."""
    return evaluate_facts(build_facts(key, profile, policy=policy, registry=registry, now=now, context=context))


def evaluate_facts(f: KeyFacts) -> list[Finding]:
    out: list[Finding] = []
    for rule in RULES:
        if not f.policy.rule_enabled(rule.id):
            continue
        for found in rule.check(f):
            if rule.about_exposure and f.key_gone and Severity(found.severity).rank > Severity.LOW.rank:
                # The exchange says the key no longer exists: who held a copy is history, not a danger.
                found = replace(found, severity=Severity.LOW.value,
                                detail=found.detail + " The exchange no longer accepts this key, so the copy is "
                                "useless unless the key comes back.")
            out.append(found)
    return sort_findings(out)


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda x: (-Severity(x.severity).rank, x.rule, x.title))


