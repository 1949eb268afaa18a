"""The UI's single adapter to the core's registry, policy, rules and audit.

A build without those modules (or with a registry file that fails to load) still opens the vault and lists keys,
just without findings: everything the widgets need from them goes through the few functions below.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import ModuleType
from typing import Any

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord

log = logging.getLogger(__name__)

# Incident kinds that put a stored key at risk, most severe first (registry.IncidentKind values).
INCIDENT_ORDER = ("key_leak", "account_data_breach", "wallet_breach", "other", "phishing_clone")


def optional_module(name: str) -> ModuleType | None:
    """The module, or None if *it* does not exist (an ImportError inside it is a bug and propagates)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


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
    mod = optional_module("keyhygiene.core.registry")
    if mod is None:
        return None
    try:
        return mod.load_registry()
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
    for exp in record.exposures:
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
def load_policy(repo: Any) -> Any | None:
    mod = optional_module("keyhygiene.core.policy")
    return None if mod is None else mod.Policy.load(repo)


def save_policy(repo: Any, policy: Any) -> None:
    policy.save(repo)


def policy_value(policy: Any | None, name: str, default: int) -> int:
    return int(getattr(policy, name, default) if policy is not None else default)


def thresholds() -> Mapping[str, Any]:
    mod = optional_module("keyhygiene.core.policy")
    return {} if mod is None else dict(mod.THRESHOLDS)


# ---- rules ----------------------------------------------------------------------------------------------------
def rules_available() -> bool:
    return optional_module("keyhygiene.core.rules") is not None


def rule_list() -> list[tuple[str, str]]:
    mod = optional_module("keyhygiene.core.rules")
    return [] if mod is None else [(r.id, r.summary) for r in mod.RULES]


def context(last_good: Mapping[str, tuple[datetime, KeyProfile]] | None = None) -> Any:
    mod = optional_module("keyhygiene.core.rules")
    if mod is None:
        return None
    return mod.RuleContext(last_good=dict(last_good or {}))


def judge(record: KeyRecord, profile: KeyProfile | None, checked_at: datetime | None, *, policy: Any,
          registry: Any, now: datetime, ctx: Any = None) -> Judgement:
    """Findings, score and blast radius of one key (empty when the rules are not part of this build)."""
    if policy is None or registry is None:  # before the deferred judging: no need to import the rules
        return Judgement([], None, "")
    audit = optional_module("keyhygiene.core.audit")
    if audit is None:
        return Judgement([], None, "")
    a = audit.judge(record, profile, checked_at, policy=policy, registry=registry, now=now, context=ctx)
    return Judgement(list(a.findings), int(a.score), str(a.blast_radius))


def evaluate(record: KeyRecord, profile: KeyProfile | None, *, policy: Any, registry: Any,
             now: datetime) -> list[Finding]:
    return judge(record, profile, None, policy=policy, registry=registry, now=now).findings


def overall_score(scores: list[int]) -> int | None:
    mod = optional_module("keyhygiene.core.score")
    return None if mod is None else int(mod.overall_score(scores))
