"""The UI's single adapter to the core's registry, policy, rules and audit.

The core modules are imported inside the functions below: the registry and the rules are what make startup slow,
and the window paints before they are needed. A registry file that fails to load still lets the app open the vault
and list keys, just without findings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord

if TYPE_CHECKING:
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.rules import RuleContext
    from keyhygiene.core.rules.facts import InspectionHistory

log = logging.getLogger(__name__)

# Incident kinds that put a stored key at risk, most severe first (registry.IncidentKind values).
INCIDENT_ORDER = ("key_leak", "account_data_breach", "wallet_breach", "other", "phishing_clone")


@dataclass(frozen=True)
class ServiceInfo:
    """A registry service as the pickers show it."""

    id: str
    name: str
    category_label: str = ""


@dataclass(frozen=True)
class IncidentInfo:
    service: str
    day: date | None
    kind: str
    title: str  # short: "API-key leak"
    summary: str  # the registry's sourced sentence
    verified: bool = True


@dataclass(frozen=True)
class Judgement:
    findings: list[Finding]
    score: int | None
    blast_radius: str


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
    out = [ServiceInfo(id=s.id, name=s.name, category_label=s.category_label) for s in registry]
    return sorted(out, key=lambda s: s.name.lower())


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


def incidents_touching(registry: Any | None, record: KeyRecord) -> list[IncidentInfo]:
    """Incidents of a service this key was given to that happened while the service held it.

    An incident dated by month counts when any day of that month falls inside the sharing; an unknown sharing
    date counts as "maybe", so it is shown (a reminder errs on the side of telling)."""
    if registry is None:
        return []
    out: list[IncidentInfo] = []
    for exp in record.current_exposures:  # a rotated key's old sharings stay history
        for inc in registry.incidents_for(exp.service):
            if exp.shared_at is not None and inc.last_day < exp.shared_at:
                continue
            if exp.revoked_at is not None and inc.first_day > exp.revoked_at:
                continue
            out.append(IncidentInfo(service=exp.service, day=inc.date, kind=inc.kind, title=inc.kind_label,
                                    summary=inc.summary, verified=inc.verified))
    rank = {k: i for i, k in enumerate(INCIDENT_ORDER)}
    return sorted(out, key=lambda i: (rank.get(i.kind, len(rank)), -(i.day.toordinal() if i.day else 0)))


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


def context_for(key_id: str, profile: KeyProfile | None, history: InspectionHistory) -> RuleContext:
    """The rules' context for one key: its last successful inspection when ``profile`` is not a success."""
    from keyhygiene.core.rules import context_for as core_context_for

    return core_context_for(key_id, profile, history)


def judge(record: KeyRecord, profile: KeyProfile | None, checked_at: datetime | None, *, policy: Any,
          registry: Any, now: datetime, ctx: RuleContext | None = None) -> Judgement:
    """Findings, score and blast radius of one key (empty without a registry: not loaded yet, or unreadable)."""
    if policy is None or registry is None:  # before the deferred judging: no need to import the rules
        return Judgement([], None, "")
    from keyhygiene.core.audit import judge as judge_key

    a = judge_key(record, profile, checked_at, policy=policy, registry=registry, now=now, context=ctx)
    return Judgement(list(a.findings), int(a.score), str(a.blast_radius))


def evaluate(record: KeyRecord, profile: KeyProfile | None, *, policy: Any, registry: Any,
             now: datetime) -> list[Finding]:
    return judge(record, profile, None, policy=policy, registry=registry, now=now).findings


def overall_score(scores: list[int]) -> int:
    from keyhygiene.core.score import overall_score as score_of

    return int(score_of(scores))
