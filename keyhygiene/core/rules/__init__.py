"""Hygiene rules: turn a key's record, its latest profile and its exposures into findings with fixes.

Plain Python, no Qt. ``evaluate`` is the entry point; ``blast_radius`` says in words what a holder of the key could
do. Each rule lives in the module for its theme (exposure, permission, lifetime, status) and is listed in
``engine.RULES``; thresholds come from ``keyhygiene.core.policy.Policy``.
"""

from keyhygiene.core.rules.blast import blast_radius, blast_radius_of
from keyhygiene.core.rules.engine import RULE_IDS, RULES, evaluate, evaluate_facts, sort_findings
from keyhygiene.core.rules.facts import LAST_GOOD_LOOKBACK, KeyFacts, RuleContext, build_facts, context_for

__all__ = [
    "LAST_GOOD_LOOKBACK",
    "RULES",
    "RULE_IDS",
    "KeyFacts",
    "RuleContext",
    "blast_radius",
    "blast_radius_of",
    "build_facts",
    "context_for",
    "evaluate",
    "evaluate_facts",
    "sort_findings",
]
