"""What the report needs from the rules, the score and the exposure registry, behind one small seam.

The report never decides what is wrong with a key: findings, blast radius and scores come from
``keyhygiene.core.rules`` / ``keyhygiene.core.score`` and service facts from ``keyhygiene.core.registry``, the same
code ``audit`` runs, so a report and ``audit --json`` agree. ``RuleEngine`` is that seam; tests hand in a fixed
engine so golden files do not change every time a rule's wording does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord
from keyhygiene.core.service_info import IncidentInfo, ServiceInfo, incident_from, service_from

if TYPE_CHECKING:
    from keyhygiene.core.assessment import KeyAssessment

__all__ = ["AuditEngine", "IncidentInfo", "PolicyView", "RuleEngine", "ServiceInfo", "StaticEngine", "Verdict",
           "incident_from", "policy_view", "service_from"]


@dataclass(frozen=True)
class PolicyView:
    """The policy as the report shows it: every threshold by name, plus the one the age chart draws."""

    values: Mapping[str, Any]
    max_age_days: int

    def to_json(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in sorted(self.values.items())}


@dataclass(frozen=True)
class Verdict:
    """One key judged: what ``core.assessment.assess`` returns, reduced to what a report prints."""

    findings: tuple[Finding, ...]
    score: int
    blast_radius: str | None
    # The core's assessment behind it (None from a static engine): which sharings an incident touched, the
    # creation date the rules counted from. The report takes those from here rather than working them out again.
    assessment: KeyAssessment | None = None


Inspection = tuple[datetime, KeyProfile]


class RuleEngine(Protocol):
    """Everything the report asks the rules layer. ``judge_all`` sees the whole vault at once so an engine can
    build cross-key context (last good inspections, plaintext copies) the way the audit does."""

    policy: PolicyView
    score_formula: str | None

    def judge_all(
        self, keys: Sequence[KeyRecord], latest: Mapping[str, Inspection], now: datetime
    ) -> dict[str, Verdict]: ...

    def overall_score(self, scores: Sequence[int]) -> int: ...

    def service(self, service_id: str) -> ServiceInfo | None: ...


@dataclass
class StaticEngine:
    """A rule engine made of plain data: findings per key id, services by id. For tests and golden files, whose
    subject is the rendering, not the rules' wording."""

    policy: PolicyView
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    services: dict[str, ServiceInfo] = field(default_factory=dict)
    blast: dict[str, str] = field(default_factory=dict)
    penalties: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 40, "high": 25, "medium": 10, "low": 3, "info": 0}
    )
    score_formula: str | None = "Test scoring: 100 minus 40/25/10/3/0 per critical/high/medium/low/info finding."

    def judge_all(
        self, keys: Sequence[KeyRecord], latest: Mapping[str, Inspection], now: datetime
    ) -> dict[str, Verdict]:
        out = {}
        for k in keys:
            fs = tuple(self.findings.get(k.id, []))
            score = max(0, 100 - sum(self.penalties.get(f.severity, 0) for f in fs))
            out[k.id] = Verdict(findings=fs, score=score, blast_radius=self.blast.get(k.id))
        return out

    def overall_score(self, scores: Sequence[int]) -> int:
        return min(scores) if scores else 100

    def service(self, service_id: str) -> ServiceInfo | None:
        return self.services.get(service_id)


class AuditEngine:
    """The real rules, scores and registry, judging each key exactly as ``keyhygiene audit`` does
    (``core.assessment.assess``), on the latest recorded inspection instead of a fresh one."""

    def __init__(self, repo: Any, *, policy: Any = None, registry: Any = None, context: Any = None) -> None:
        from keyhygiene.core.policy import Policy
        from keyhygiene.core.registry import load_registry
        from keyhygiene.core.score import SCORE_FORMULA

        self._repo = repo
        self._policy = policy if policy is not None else Policy.load(repo)
        self._registry = registry if registry is not None else load_registry()
        self._context = context
        self.policy = policy_view(self._policy)
        self.score_formula: str | None = SCORE_FORMULA

    def judge_all(
        self, keys: Sequence[KeyRecord], latest: Mapping[str, Inspection], now: datetime
    ) -> dict[str, Verdict]:
        from keyhygiene.core.assessment import assess_stored
        from keyhygiene.core.report.rotations import last_rotation_day

        # A vault answers itself (both backends); a bare repository through its database.
        rotated = getattr(self._repo, "last_rotation_day", None)
        db = getattr(self._repo, "db", None)
        if rotated is None and db is not None:
            rotated = partial(last_rotation_day, db)
        judged = assess_stored(keys, latest, history=self._repo.inspection_history, last_rotation=rotated,
                               policy=self._policy, registry=self._registry, now=now, context=self._context)
        return {a.key.id: Verdict(findings=a.findings, score=a.score, blast_radius=a.blast_radius, assessment=a)
                for a in judged}

    def overall_score(self, scores: Sequence[int]) -> int:
        from keyhygiene.core.score import overall_score

        return overall_score(scores)

    def service(self, service_id: str) -> ServiceInfo | None:
        svc = self._registry.get(service_id)
        return service_from(svc) if svc is not None else None


def policy_view(policy: Any) -> PolicyView:
    """Any policy object (dataclass, ``to_json()``/``to_dict()`` or mapping) as a ``PolicyView``."""
    if isinstance(policy, PolicyView):
        return policy
    values: Mapping[str, Any]
    for attr in ("to_json", "to_dict", "as_dict"):
        fn = getattr(policy, attr, None)
        if callable(fn):
            values = dict(fn())
            break
    else:
        if dataclasses.is_dataclass(policy) and not isinstance(policy, type):
            values = dataclasses.asdict(policy)
        elif isinstance(policy, Mapping):
            values = dict(policy)
        else:
            raise TypeError(f"cannot read a policy from {type(policy).__name__}")
    max_age = values.get("max_age_days", getattr(policy, "max_age_days", 90))
    return PolicyView(values=values, max_age_days=int(max_age))


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, set | frozenset):
        return sorted(_jsonable(x) for x in v)
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)
