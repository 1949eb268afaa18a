"""The UI's single adapter to the core's registry, policy, rules and audit.

The core modules are imported inside the functions below: the registry and the rules are what make startup slow,
and the window paints before they are needed. A registry file that fails to load still lets the app open the vault
and list keys, just without findings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from keyhygiene.core.models import KeyProfile, KeyRecord

if TYPE_CHECKING:
    from keyhygiene.core.assessment import KeyAssessment, Summary
    from keyhygiene.core.finding import Finding  # built with the first judgement, after the first frame
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.rules import RuleContext
    from keyhygiene.core.rules.facts import InspectionHistory
    from keyhygiene.core.service_info import ServiceInfo

log = logging.getLogger(__name__)


class Judgement(NamedTuple):
    """What the window keeps of one key's assessment; ``assessment`` is None before the deferred judging. A
    NamedTuple, not a frozen dataclass: the same immutable record, made in a fifth of the time at start-up (Python
    3.11 compiles each method a dataclass generates; issue 21)."""

    findings: list[Finding]
    score: int | None
    blast_radius: str
    assessment: KeyAssessment | None = None


def unjudged() -> Judgement:
    """A key's judgement before the rules have run (the registry loads after the first frame): no findings."""
    return Judgement([], None, "")


# ---- registry -------------------------------------------------------------------------------------------------
def load_registry() -> Any | None:
    from keyhygiene.core.registry import load_registry as load  # outside the try: a broken import is a bug

    try:
        return load()
    except Exception:
        log.exception("the exposure registry could not be loaded; findings about services are off")
        return None


def registry_services(registry: Any | None) -> list[ServiceInfo]:
    if registry is None:
        return []
    from keyhygiene.core.service_info import service_from

    return sorted((service_from(s) for s in registry), key=lambda s: s.name.lower())


def service_name(registry: Any | None, service: str) -> str:
    """Display name of a stored service: registry name, a file's name, or the user's own text."""
    if registry is not None:
        return str(registry.display_name(service))
    if service.startswith("file:"):
        return service[5:]
    return service


def resolver(registry: Any | None) -> Any:
    """What the vault uses to turn '3 Commas' into '3commas' (None: plain lowercase)."""
    return registry.canonical if registry is not None else None


# ---- policy ---------------------------------------------------------------------------------------------------
def load_policy(repo: Any) -> Policy:
    from keyhygiene.core.policy import Policy

    return Policy.load(repo)


def save_policy(repo: Any, policy: Any) -> None:
    policy.save(repo)


def policy_value(policy: Any | None, name: str, default: int) -> int:
    return int(getattr(policy, name, default) if policy is not None else default)


def thresholds() -> Mapping[str, Any]:
    from keyhygiene.core.policy import THRESHOLDS

    return dict(THRESHOLDS)


# ---- rules ----------------------------------------------------------------------------------------------------
def rule_list() -> list[tuple[str, str]]:
    from keyhygiene.core.rules import RULES

    return [(r.id, r.summary) for r in RULES]


def context_for(key_id: str, profile: KeyProfile | None, history: InspectionHistory,
                last_rotation: Callable[[str], date | None] | None = None) -> RuleContext:
    """The rules' context for one key: its last successful inspection when ``profile`` is not a success, and
    (``last_rotation``, the service's) the day of its last completed rotation, as the audit and the report build it."""
    from keyhygiene.core.rules import context_for as core_context_for

    return core_context_for(key_id, profile, history, last_rotation=last_rotation)


def assess(record: KeyRecord, profile: KeyProfile | None, checked_at: datetime | None, *, policy: Any,
           registry: Any, now: datetime, ctx: RuleContext | None = None) -> Judgement:
    """``core.assessment.assess`` for one key (empty without a registry: not loaded yet, or unreadable)."""
    if policy is None or registry is None:  # before the deferred judging: no need to import the rules
        return unjudged()
    from keyhygiene.core.assessment import assess as assess_key

    a = assess_key(record, profile, checked_at, policy=policy, registry=registry, now=now, context=ctx)
    return Judgement(list(a.findings), a.score, a.blast_radius, a)


def summarize(assessments: Iterable[KeyAssessment]) -> Summary:
    """The header's, banner's and tray's summary (``core.assessment.summarize``, as ``keyhygiene status``)."""
    from keyhygiene.core.assessment import summarize as summary_of

    return summary_of(assessments)


def evaluate(record: KeyRecord, profile: KeyProfile | None, *, policy: Any, registry: Any,
             now: datetime) -> list[Finding]:
    return assess(record, profile, None, policy=policy, registry=registry, now=now).findings


def overall_score(scores: list[int]) -> int:
    from keyhygiene.core.score import overall_score as score_of

    return int(score_of(scores))
