"""One report model built from the vault: every format (HTML, PDF, JSON, CSV) renders this and nothing else.

The model holds no secret: keys appear only as the masked fingerprint the vault stores, and the builder never
opens the keychain. Free text that came from outside (exchange messages, notes) is scrubbed once more here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from keyhygiene import __version__
from keyhygiene.core import redact
from keyhygiene.core.assessment import Reminder, reminders_of, summarize
from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord, Status, account_facts_text
from keyhygiene.core.permissions import Permission
from keyhygiene.core.report.engine import IncidentInfo, PolicyView, RuleEngine, Verdict
from keyhygiene.core.report.rotations import RotationEntry
from keyhygiene.core.rules.exposure_window import exposed_at
from keyhygiene.core.severity import SEVERITIES, Severity
from keyhygiene.core.timeutil import utcnow

if TYPE_CHECKING:
    from keyhygiene.core.assessment import KeyAssessment

SCHEMA_VERSION = 1
FILE_PREFIX = "file:"  # an exposure that is a local config file, not a service (models.Exposure)
# Column order of permission matrices and CSV columns: the vocabulary's own order (DESIGN.md), not alphabetical,
# so read comes first and the dangerous rights come last.
PERMISSION_ORDER: tuple[str, ...] = tuple(p.value for p in Permission)


@dataclass(frozen=True)
class ReportIncident:
    date: date | None
    when: str | None  # as the registry states it: a day, or a month
    title: str
    summary: str | None
    sources: tuple[str, ...]
    verified: bool
    affects_key: bool  # the key was with the service when this happened (or we cannot rule it out)


@dataclass(frozen=True)
class ReportExposure:
    key_id: str
    service: str
    service_name: str
    category: str | None
    in_registry: bool
    shared_at: date | None
    revoked_at: date | None
    note: str | None
    incidents: tuple[ReportIncident, ...]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def has_relevant_incident(self) -> bool:
        return any(i.affects_key for i in self.incidents)


@dataclass(frozen=True)
class ReportKey:
    id: str
    exchange: str
    label: str
    key: str  # masked fingerprint, never more
    purpose: str
    state: str
    note: str | None
    shared_with_record: tuple[str, ...]  # KeyRecord.shared_with: what ``keys list`` and ``audit --json`` print
    created_at: datetime | None  # as the exchange reports it, else as declared, else when added to the vault
    created_source: str | None  # "exchange", "declared" or "added" (the age is then a minimum)
    added_at: datetime
    age_days: int | None
    profile: KeyProfile | None
    checked_at: datetime | None
    findings: tuple[Finding, ...]  # worst first
    score: int
    blast_radius: str | None
    exposures: tuple[ReportExposure, ...]
    last_rotated: datetime | None
    rotation_reasons: tuple[str, ...]
    reminders: tuple[Reminder, ...] = ()  # the findings the window's banner and `status` remind of

    @property
    def shared_with(self) -> list[str]:
        return list(self.shared_with_record)

    @property
    def shared_with_names(self) -> list[str]:
        """``shared_with`` as a reader sees it: the registry's display names (3Commas, not ``3commas``)."""
        names = self._service_names
        return [names.get(s, s) for s in self.shared_with_record]

    @property
    def _service_names(self) -> dict[str, str]:
        return {e.service: e.service_name for e in self.exposures}

    @property
    def status(self) -> str | None:
        return Status(self.profile.status).value if self.profile else None

    @property
    def permissions(self) -> list[str] | None:
        """Sorted vocabulary permissions, or None when unknown: never inspected, or the exchange did not answer
        (a rejected key's empty list means "not known", not "no rights")."""
        if self.profile is None or self.profile.status != Status.OK:
            return None
        return sorted(set(self.profile.permissions))

    @property
    def account_facts(self) -> str | None:
        """What the exchange says of the account rather than the key (MEXC's canTrade/canWithdraw), one line."""
        if self.profile is None or self.profile.status != Status.OK or not self.profile.account_facts:
            return None
        return account_facts_text(self.profile.account_facts)

    @property
    def ip_restricted(self) -> bool | None:
        """Known only from an answered inspection; a whitelist implies a restriction (as in ``rules.facts``)."""
        if self.profile is None or self.profile.status != Status.OK:
            return None
        if self.profile.ip_restricted is None and self.profile.ip_whitelist:
            return True
        return self.profile.ip_restricted

    @property
    def ip_count(self) -> int | None:
        if self.profile is None or self.profile.status != Status.OK or self.profile.ip_whitelist is None:
            return None
        return len(self.profile.ip_whitelist)

    @property
    def highest_severity(self) -> str | None:
        return self.findings[0].severity if self.findings else None

    @property
    def needs_rotation(self) -> bool:
        return bool(self.rotation_reasons)

    @property
    def incident_services(self) -> list[str]:
        return sorted({e.service for e in self.exposures if e.has_relevant_incident})

    @property
    def incident_service_names(self) -> list[str]:
        """``incident_services`` by display name, for the HTML and PDF (JSON and CSV keep the ids)."""
        names = self._service_names
        return [names.get(s, s) for s in self.incident_services]

    @property
    def over_age_limit(self) -> bool:
        return "age" in self.rotation_reasons


@dataclass(frozen=True)
class ResultsAge:
    """How fresh the inspection results behind the report are."""

    oldest_check: datetime | None
    newest_check: datetime | None
    unchecked_keys: int
    age_seconds: int | None  # generated_at - oldest_check: the stalest result the report relies on


@dataclass(frozen=True)
class Summary:
    key_count: int
    overall_score: int
    findings_by_severity: dict[str, int]
    keys_by_highest_severity: dict[str, int]  # every severity plus "none"
    keys_needing_rotation: tuple[str, ...]
    keys_with_incident_exposure: tuple[str, ...]
    keys_shared: int
    # As the window's header and `keyhygiene status` say it (``core.assessment.summarize``).
    needs_attention: int = 0
    headline: str = ""
    reminders: tuple[Reminder, ...] = ()


@dataclass(frozen=True)
class Report:
    schema_version: int
    app_name: str
    app_version: str
    generated_at: datetime
    refreshed: bool
    policy: PolicyView
    keys: tuple[ReportKey, ...]
    rotations: tuple[RotationEntry, ...]
    results: ResultsAge
    summary: Summary
    score_formula: str | None = None
    # What the renderers derive from this (frozen) report and share: the JSON document with its digest, its text.
    # Made once per report, so the four formats do not each rebuild and re-hash it (``json_report.shared_*``).
    memo: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def key(self, key_id: str) -> ReportKey | None:
        return next((k for k in self.keys if k.id == key_id), None)


# Why a key is due for replacement, in the words the report prints. Keep these short: they appear in tables.
ROTATION_REASONS = {
    "age": "older than the policy's maximum age",
    "incident": "given to a service that later had a security incident",
    "critical": "has a critical finding",
}


def build_report(
    vault: object,
    *,
    engine: RuleEngine,
    now: datetime | None = None,
    refreshed: bool = False,
    app_version: str = __version__,
) -> Report:
    """Read the vault once and assemble the report. ``vault`` needs ``list_keys()``, ``latest_inspections()`` and
    ``rotation_entries()`` (the rotation history); nothing else, and never the keychain."""
    now = now or utcnow()
    records: list[KeyRecord] = vault.list_keys()  # type: ignore[attr-defined]
    latest: dict[str, tuple[datetime, KeyProfile]] = vault.latest_inspections()  # type: ignore[attr-defined]
    rotations = vault.rotation_entries({r.id: r.label for r in records})  # type: ignore[attr-defined]
    last_rotated: dict[str, datetime] = {}
    for r in rotations:
        if r.completed and r.finished_at and (r.key_id not in last_rotated or r.finished_at > last_rotated[r.key_id]):
            last_rotated[r.key_id] = r.finished_at

    verdicts = engine.judge_all(records, latest, now)
    keys = tuple(
        _report_key(
            rec,
            latest[rec.id][1] if rec.id in latest else None,
            latest[rec.id][0] if rec.id in latest else None,
            verdicts[rec.id],
            engine,
            now,
            last_rotated.get(rec.id),
        )
        for rec in records
    )
    checks = [k.checked_at for k in keys if k.checked_at]
    oldest = min(checks) if checks else None
    results = ResultsAge(
        oldest_check=oldest,
        newest_check=max(checks) if checks else None,
        unchecked_keys=sum(1 for k in keys if k.checked_at is None),
        age_seconds=int((now - oldest).total_seconds()) if oldest else None,
    )
    return Report(
        schema_version=SCHEMA_VERSION,
        app_name="KeyHygiene",
        app_version=app_version,
        generated_at=now,
        refreshed=refreshed,
        policy=engine.policy,
        keys=keys,
        rotations=tuple(rotations),
        results=results,
        summary=_summary(keys, engine),
        score_formula=getattr(engine, "score_formula", None),
    )


def _report_key(
    rec: KeyRecord,
    profile: KeyProfile | None,
    checked_at: datetime | None,
    verdict: Verdict,
    engine: RuleEngine,
    now: datetime,
    last_rotated: datetime | None,
) -> ReportKey:
    if profile is not None and profile.message:
        profile = dataclasses.replace(profile, message=redact.scrub(profile.message))
    a = verdict.assessment
    created, source = (a.created_at, a.created_origin) if a is not None else _created(rec, profile)
    age = max(0, (now - created).days) if created else None
    ordered = tuple(sorted(verdict.findings, key=lambda f: (-_rank(f.severity), f.rule, f.title)))
    exposures = tuple(_exposure(rec.id, e, engine, _affects(rec, a, e, created, source)) for e in rec.exposures)
    reasons: list[str] = []
    if a is not None:
        # Past the age limit when the age rule says so (its finding at medium or worse), not by a second count.
        over_age = any(f.rule == "too_old" and Severity(f.severity).at_least(Severity.MEDIUM) for f in ordered)
    else:  # a static engine (golden files) has no age rule to ask
        over_age = age is not None and age > engine.policy.max_age_days
    if over_age:
        reasons.append("age")
    if any(e.has_relevant_incident for e in exposures):
        reasons.append("incident")
    if any(f.severity == Severity.CRITICAL for f in ordered):
        reasons.append("critical")
    return ReportKey(
        id=rec.id,
        exchange=rec.exchange,
        label=rec.label,
        key=rec.fingerprint,
        purpose=rec.purpose,
        state=rec.state,
        note=redact.scrub(rec.note) if rec.note else None,
        shared_with_record=tuple(rec.shared_with),
        created_at=created,
        created_source=source,
        added_at=rec.added_at,
        age_days=age,
        profile=profile,
        checked_at=checked_at,
        findings=ordered,
        score=int(verdict.score),
        blast_radius=verdict.blast_radius,
        exposures=exposures,
        last_rotated=last_rotated,
        rotation_reasons=tuple(reasons),
        reminders=a.reminders if a is not None else reminders_of(rec, ordered),
    )


def _affects(rec: KeyRecord, a: KeyAssessment | None, e: Exposure, created: datetime | None,
             source: str | None) -> Callable[[IncidentInfo], bool]:
    """Whether an incident touched this sharing. With an assessment, its findings say so (an incident no rule
    reports, such as a failed sign-up flood, touches nothing); from a static engine, the rule's own dates."""
    if a is not None:
        touched = {i.id for v in a.exposures if v.exposure is e for i in v.incidents}
        return lambda i: i.id is not None and i.id in touched
    known = created.date() if created is not None and source != "added" else None
    return lambda i: incident_affects(i, e.shared_at, e.revoked_at, created=known,
                                      created_by_exchange=source == "exchange")


def _created(rec: KeyRecord, profile: KeyProfile | None) -> tuple[datetime | None, str | None]:
    """The date the age is counted from, with the same precedence as the rules (``rules.facts``): what the exchange
    reports, else what the user declared, else when the key was added to the vault (so the age is a minimum)."""
    if profile is not None and profile.created_at is not None:
        return profile.created_at, "exchange"
    if rec.created_at is not None:
        return rec.created_at, "declared"
    return rec.added_at, "added"


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


def _exposure(key_id: str, e: Exposure, engine: RuleEngine,
              affects: Callable[[IncidentInfo], bool]) -> ReportExposure:
    service: str = e.service
    shared_at: date | None = e.shared_at
    revoked_at: date | None = e.revoked_at
    info = engine.service(service)
    name = info.name if info else service
    category = info.category if info else None
    if service.startswith(FILE_PREFIX):
        name, category = service[len(FILE_PREFIX):], "local config file"
    incidents = tuple(
        ReportIncident(
            date=i.date,
            when=i.when or (i.date.isoformat() if i.date else None),
            title=i.title,
            summary=i.summary,
            sources=i.sources,
            verified=i.verified,
            affects_key=affects(i),
        )
        for i in sorted(info.incidents if info else (), key=lambda i: (i.date or date.min, i.title))
    )
    return ReportExposure(
        key_id=key_id,
        service=service,
        service_name=name,
        category=category,
        in_registry=info is not None,
        shared_at=shared_at,
        revoked_at=revoked_at,
        note=e.note,
        incidents=incidents,
    )


def incident_affects(incident: IncidentInfo, shared_at: date | None, revoked_at: date | None, *,
                     created: date | None = None, created_by_exchange: bool = False) -> bool:
    """True when the key may have been at the service while the incident happened: ``rules.exposure_window``,
    the rule the findings use (a report from a static engine has no findings that could say it). An undated
    incident counts while the sharing lasts: the report must not reassure on missing data."""
    if incident.date is None:
        return revoked_at is None
    return exposed_at(incident.date, incident.until or incident.date, shared_at=shared_at, revoked_at=revoked_at,
                      created=created, created_by_exchange=created_by_exchange) is not None


def _summary(keys: Sequence[ReportKey], engine: RuleEngine) -> Summary:
    by_sev = {s: 0 for s in SEVERITIES}
    by_key = {s: 0 for s in SEVERITIES} | {"none": 0}
    for k in keys:
        for f in k.findings:
            if f.severity in by_sev:
                by_sev[f.severity] += 1
        by_key[k.highest_severity if k.highest_severity in by_key else "none"] += 1
    core = summarize(keys)
    return Summary(
        key_count=len(keys),
        overall_score=int(engine.overall_score([k.score for k in keys])),
        findings_by_severity=by_sev,
        keys_by_highest_severity=by_key,
        keys_needing_rotation=tuple(k.id for k in keys if k.needs_rotation),
        keys_with_incident_exposure=tuple(k.id for k in keys if k.incident_services),
        keys_shared=sum(1 for k in keys if k.shared_with),
        needs_attention=core.needs_attention,
        headline=core.headline,
        reminders=core.reminders,
    )
