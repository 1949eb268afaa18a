"""One assessment per key, and one summary of a vault: the judgement every surface renders.

``assess`` turns a key's record, its latest inspection and the vault's policy into a ``KeyAssessment``: findings,
score, blast radius, the key's sharings with the incidents that touched them, and its reminders. ``summarize``
folds assessments into the ``Summary`` the window's header and banner, the tray, ``status`` and the reports show.

Nothing here recomputes a judgement: an incident touches a sharing only when a finding says so, and a reminder is a
current finding of a reminder rule (age, expiry, incidents), carrying that finding's rule, severity and title. So
the table row, the detail pane, the banner and ``audit --json`` cannot disagree about a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import Registry
from keyhygiene.core.rules import RuleContext, blast_radius_of, build_facts, context_for, evaluate_facts
from keyhygiene.core.rules.facts import InspectionHistory, KeyFacts, LastRotation
from keyhygiene.core.score import key_score, overall_score
from keyhygiene.core.severity import SEVERITIES, Severity

SCHEMA_VERSION = 1

# The rules whose findings are reminders (DESIGN.md §8: keys past their age limit, expiring keys, incidents that
# touch a stored key), each with the least severity that makes one: a "rotation due soon" note (info) is not.
REMINDER_RULES: Mapping[str, Severity] = {
    "shared_with_leaked_service": Severity.LOW,
    "shared_with_breached_service": Severity.LOW,
    "too_old": Severity.MEDIUM,
    "expired": Severity.LOW,
    "expiring": Severity.LOW,
    "inactivity_deletion": Severity.LOW,
}
# The rules that say an incident touched a sharing; their findings name it in ``evidence`` (service, incident).
INCIDENT_RULES = frozenset({"shared_with_leaked_service", "shared_with_breached_service"})
# A key "needs attention" when its worst finding is at least this severe: the header counts these keys.
ATTENTION = Severity.HIGH


@dataclass(frozen=True)
class Reminder:
    """One current finding of a reminder rule, as the banner, the tray and ``status`` show it."""

    key_id: str
    label: str
    rule: str
    severity: str
    title: str  # the finding's title
    text: str

    @property
    def kind(self) -> str:
        """"incident" | "age" | "expiry": what the reminder is about (for icons and grouping)."""
        if self.rule in INCIDENT_RULES:
            return "incident"
        return "age" if self.rule == "too_old" else "expiry"

    @property
    def ident(self) -> tuple[str, str, str]:
        """What makes a reminder 'the same' across evaluations, so a notification is not repeated."""
        return (self.rule, self.key_id, self.text)

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "rule": self.rule, "severity": self.severity, "text": self.text}


@dataclass(frozen=True)
class IncidentExposure:
    """An incident at a service that a finding says may have touched this key."""

    id: str
    service: str
    day: date  # first day it may have happened on
    when: str  # as the registry states it ("2022-12-28", "October 2022")
    kind: str
    title: str  # "API-key leak"
    summary: str
    verified: bool
    rule: str  # the finding that names it
    severity: str


@dataclass(frozen=True)
class ExposureView:
    """One sharing of the key with what the findings say about it."""

    exposure: Exposure
    display: str
    kind: str  # "third_party" | "self_hosted" | "file" | "none"
    incidents: tuple[IncidentExposure, ...]

    @property
    def service(self) -> str:
        return self.exposure.service

    @property
    def active(self) -> bool:
        return self.exposure.active


@dataclass(frozen=True)
class KeyAssessment:
    key: KeyRecord
    profile: KeyProfile | None
    checked_at: datetime | None
    findings: tuple[Finding, ...]  # worst first
    score: int
    blast_radius: str
    exposures: tuple[ExposureView, ...]
    reminders: tuple[Reminder, ...]
    created_at: datetime | None
    created_origin: str  # "exchange" | "declared" | "added"

    @property
    def worst(self) -> Severity | None:
        return Severity(self.findings[0].severity) if self.findings else None

    def reaches(self, severity: Severity | str) -> bool:
        w = self.worst
        return w is not None and w.at_least(severity)

    @property
    def needs_attention(self) -> bool:
        return needs_attention(self.findings)

    @property
    def incidents(self) -> list[IncidentExposure]:
        """Incidents that touched this key, worst finding first."""
        out = [i for e in self.exposures for i in e.incidents]
        return sorted(out, key=lambda i: (-Severity(i.severity).rank, -i.day.toordinal(), i.service))

    @property
    def incident_services(self) -> frozenset[str]:
        """Services (as stored) that held the key when one of their incidents happened, by the findings."""
        return frozenset(e.service for e in self.exposures if e.incidents)


def assess(
    key: KeyRecord,
    profile: KeyProfile | None,
    checked_at: datetime | None,
    *,
    policy: Policy,
    registry: Registry,
    now: datetime,
    context: RuleContext | None = None,
) -> KeyAssessment:
    """The judgement of one key. ``profile`` is its latest inspection (None: never inspected); ``context`` carries
    the last successful inspection, plaintext copies and rotations (``rules.context_for``)."""
    facts = build_facts(key, profile, policy=policy, registry=registry, now=now, context=context)
    findings = tuple(evaluate_facts(facts))
    return KeyAssessment(
        key=key, profile=profile, checked_at=checked_at, findings=findings, score=key_score(findings),
        blast_radius=blast_radius_of(facts), exposures=_exposures(facts, findings),
        reminders=reminders_of(key, findings), created_at=facts.created_at, created_origin=facts.created_origin,
    )


def _exposures(f: KeyFacts, findings: Sequence[Finding]) -> tuple[ExposureView, ...]:
    named: dict[tuple[str, str], Finding] = {}
    for x in findings:
        if x.rule in INCIDENT_RULES and x.evidence.get("incident"):
            named.setdefault((str(x.evidence.get("service")), str(x.evidence["incident"])), x)
    out: list[ExposureView] = []
    for c in f.consumers:
        incidents: list[IncidentExposure] = []
        for inc in c.service.incidents if c.service is not None else ():
            x = named.get((c.name, inc.id))
            # A finding names the service, not the sharing: with two sharings of one service, the one that
            # held the key during the incident is the one it touched.
            if x is None or f.exposed_at(c, inc) is None:
                continue
            incidents.append(IncidentExposure(
                id=inc.id, service=c.name, day=inc.first_day, when=inc.when, kind=inc.kind, title=inc.kind_label,
                summary=inc.summary, verified=inc.verified, rule=x.rule, severity=x.severity))
        out.append(ExposureView(exposure=c.exposure, display=c.display, kind=c.kind, incidents=tuple(incidents)))
    return tuple(out)


def reminders_of(key: KeyRecord, findings: Iterable[Finding]) -> tuple[Reminder, ...]:
    """The key's reminders: its current findings of a reminder rule (none for a key that is not active)."""
    if key.state != "active":
        return ()
    out = []
    for x in findings:
        least = REMINDER_RULES.get(x.rule)
        if least is None or not Severity(x.severity).at_least(least):
            continue
        out.append(Reminder(key_id=key.id, label=key.label, rule=x.rule, severity=x.severity, title=x.title,
                            text=f"\u201c{key.label}\u201d: {x.title}."))
    return tuple(out)


def sort_reminders(reminders: Iterable[Reminder]) -> list[Reminder]:
    """Worst first, then by key label and rule: the banner shows the first."""
    order = {rule: i for i, rule in enumerate(REMINDER_RULES)}  # a leak before a breach, a breach before age
    return sorted(reminders, key=lambda r: (-Severity(r.severity).rank, r.label.lower(), r.key_id,
                                            order.get(r.rule, len(order)), r.text))


@dataclass(frozen=True)
class Summary:
    """The vault at a glance: what the window's header and banner, the tray and ``status`` show."""

    score: int
    keys: int
    needs_attention: int
    findings: Mapping[str, int]  # count per severity, every severity present
    reminders: tuple[Reminder, ...]  # worst first

    @property
    def headline(self) -> str:
        if not self.keys:
            return "No keys yet"
        if self.needs_attention:
            return f"{self.needs_attention} of {self.keys} key{'s' if self.keys != 1 else ''} need attention"
        if self.reminders:
            # Not urgent, but the banner shows something: the header says so rather than sounding all-clear.
            n = len(self.reminders)
            return f"No urgent problems \u00b7 {n} reminder{'s' if n != 1 else ''}"
        if any(self.findings.values()):
            return "No urgent problems"
        return "Every key follows your policy"

    @property
    def worst(self) -> Severity | None:
        return next((Severity(s) for s in SEVERITIES if self.findings.get(s)), None)

    def reaches(self, severity: Severity | str) -> bool:
        """True when any finding is at or above ``severity`` (``--fail-on``)."""
        w = self.worst
        return w is not None and w.at_least(severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "score": self.score,
            "keys": self.keys,
            "needs_attention": self.needs_attention,
            "findings": {s: int(self.findings.get(s, 0)) for s in SEVERITIES},
            "reminders": [r.to_json() for r in self.reminders],
        }


def needs_attention(findings: Iterable[Finding]) -> bool:
    """A key needs attention when a finding is at least ``ATTENTION``: what the header counts."""
    return any(Severity(x.severity).at_least(ATTENTION) for x in findings)


class Judged(Protocol):
    """What ``summarize`` reads of a key: a ``KeyAssessment``, or a report's key built from one."""

    @property
    def score(self) -> int: ...

    @property
    def findings(self) -> Sequence[Finding]: ...

    @property
    def reminders(self) -> Sequence[Reminder]: ...


def summarize(assessments: Iterable[Judged]) -> Summary:
    items = list(assessments)
    counts = dict.fromkeys(SEVERITIES, 0)
    for a in items:
        for x in a.findings:
            counts[x.severity] += 1
    return Summary(
        score=overall_score([a.score for a in items]),
        keys=len(items),
        needs_attention=sum(1 for a in items if needs_attention(a.findings)),
        findings=counts,
        reminders=tuple(sort_reminders(r for a in items for r in a.reminders)),
    )


Inspection = tuple[datetime, KeyProfile]


def assess_stored(
    keys: Sequence[KeyRecord],
    latest: Mapping[str, Inspection],
    *,
    history: InspectionHistory,
    last_rotation: LastRotation | None,
    policy: Policy,
    registry: Registry,
    now: datetime,
    context: RuleContext | None = None,
) -> list[KeyAssessment]:
    """Every key judged on its latest recorded inspection, without asking any exchange: what the window shows
    on start, what ``status`` prints and what a report without ``--refresh`` contains. ``history`` and
    ``last_rotation`` are the store's (``Repository.inspection_history``, ``report.rotations.last_rotation_day``);
    the context is built per key exactly as the audit builds it (``rules.context_for``)."""
    out = []
    for k in keys:
        at, profile = latest[k.id] if k.id in latest else (None, None)
        # As the audit does for a key it could not ask today: judge on the last answer that worked.
        ctx = context_for(k.id, profile, history, context, last_rotation=last_rotation)
        out.append(assess(k, profile, at, policy=policy, registry=registry, now=now, context=ctx))
    return out
