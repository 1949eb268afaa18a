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
from typing import Any, Protocol

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord
from keyhygiene.core.timeutil import parse_iso


@dataclass(frozen=True)
class IncidentInfo:
    """A dated, sourced incident at a third-party service (from the registry)."""

    date: date | None  # first day it may have happened on
    title: str
    summary: str | None = None
    sources: tuple[str, ...] = ()
    last_date: date | None = None  # last day it may have happened on, when only the month is known
    when: str | None = None  # the date as the registry states it ("2022-12-28", "October 2022")
    verified: bool = True

    @property
    def until(self) -> date | None:
        return self.last_date or self.date


@dataclass(frozen=True)
class ServiceInfo:
    """A third-party service as the registry knows it."""

    id: str
    name: str
    category: str | None = None
    incidents: tuple[IncidentInfo, ...] = ()


@dataclass(frozen=True)
class PolicyView:
    """The policy as the report shows it: every threshold by name, plus the one the age chart draws."""

    values: Mapping[str, Any]
    max_age_days: int

    def to_json(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in sorted(self.values.items())}


class RuleEngine(Protocol):
    """Everything the report asks the rules layer. ``evaluate_all`` sees every key at once because some rules
    (one key given to several consumers, duplicates) look across keys."""

    policy: PolicyView

    def evaluate_all(
        self, keys: Sequence[KeyRecord], profiles: Mapping[str, KeyProfile | None], now: datetime
    ) -> dict[str, list[Finding]]: ...

    def blast_radius(self, key: KeyRecord, profile: KeyProfile | None) -> str | None: ...

    def key_score(self, findings: Sequence[Finding]) -> int: ...

    def overall_score(self, scores: Sequence[int]) -> int: ...

    def service(self, service_id: str) -> ServiceInfo | None: ...


@dataclass
class StaticEngine:
    """A rule engine made of plain data: findings per key id, services by id. For tests, demos and goldens."""

    policy: PolicyView
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    services: dict[str, ServiceInfo] = field(default_factory=dict)
    blast: dict[str, str] = field(default_factory=dict)
    penalties: Mapping[str, int] = field(
        default_factory=lambda: {"critical": 40, "high": 25, "medium": 10, "low": 3, "info": 0}
    )

    def evaluate_all(
        self, keys: Sequence[KeyRecord], profiles: Mapping[str, KeyProfile | None], now: datetime
    ) -> dict[str, list[Finding]]:
        return {k.id: list(self.findings.get(k.id, [])) for k in keys}

    def blast_radius(self, key: KeyRecord, profile: KeyProfile | None) -> str | None:
        return self.blast.get(key.id)

    def key_score(self, findings: Sequence[Finding]) -> int:
        return max(0, 100 - sum(self.penalties.get(f.severity, 0) for f in findings))

    def overall_score(self, scores: Sequence[int]) -> int:
        return min(scores) if scores else 100

    def service(self, service_id: str) -> ServiceInfo | None:
        return self.services.get(service_id)


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


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    dt = parse_iso(str(value))
    return dt.date() if dt else None


def incident_from(obj: Any) -> IncidentInfo:
    """A registry ``Incident`` (or any object or mapping with the same names) as the report shows it."""

    def get(name: str, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(name, default)
        return getattr(obj, name, default)

    sources = tuple(str(s) for s in (get("sources") or ()) if s)
    first = _day(get("first_day") or get("date"))
    last = _day(get("last_day")) or first
    title = get("title") or get("kind_label") or get("kind") or "Security incident"
    return IncidentInfo(
        date=first,
        title=str(title)[:1].upper() + str(title)[1:],
        summary=get("summary"),
        sources=sources,
        last_date=last if last != first else None,
        when=get("when") or (first.isoformat() if first else None),
        verified=bool(get("verified", True)),
    )


def service_from(svc: Any) -> ServiceInfo:
    """A registry ``Service`` as the report shows it."""
    return ServiceInfo(
        id=str(svc.id),
        name=str(svc.name),
        category=getattr(svc, "category_label", None) or getattr(svc, "category", None),
        incidents=tuple(incident_from(i) for i in getattr(svc, "incidents", ())),
    )
