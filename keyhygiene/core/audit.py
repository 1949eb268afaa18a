"""An audit's verdicts: one key judged (``KeyAudit``, the audit's view of ``core.assessment.assess``) and a whole
audit (``AuditResult``).

Plain domain types. Running an audit (reading the keychain, asking the exchanges, recording the answers) is the
service layer's use case: ``keyhygiene.service.audit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keyhygiene.core.assessment import KeyAssessment, Summary, summarize
from keyhygiene.core.models import Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.score import SCORE_FORMULA, overall_score
from keyhygiene.core.severity import SEVERITIES, Severity
from keyhygiene.core.timeutil import iso

SCHEMA_VERSION = 1


@dataclass
class KeyAudit:
    """One key's verdict: its profile (as inspected now), findings, score and blast radius."""

    key: KeyRecord
    profile: KeyProfile
    checked_at: datetime | None  # when ``profile`` was obtained; None: never (secret missing, never inspected)
    findings: list[Finding]
    score: int
    blast_radius: str
    assessment: KeyAssessment

    @property
    def worst(self) -> Severity | None:
        if not self.findings:
            return None
        return max((Severity(f.severity) for f in self.findings), key=lambda s: s.rank)

    def reaches(self, severity: Severity | str) -> bool:
        w = self.worst
        return w is not None and w.at_least(severity)

    @classmethod
    def of(cls, a: KeyAssessment) -> KeyAudit:
        """The audit's view of the core's assessment (``core.assessment.assess``), the judgement every surface
        renders; a key never inspected shows as "Not checked"."""
        shown = a.profile or KeyProfile(exchange=a.key.exchange, key=a.key.fingerprint, status=Status.ERROR,
                                        message="Not checked.")
        return cls(key=a.key, profile=shown, checked_at=a.checked_at, findings=list(a.findings), score=a.score,
                   blast_radius=a.blast_radius, assessment=a)

    def to_json(self) -> dict[str, Any]:
        d = self.profile.to_json()
        d.update({
            "id": self.key.id,
            "label": self.key.label,
            "exchange": self.key.exchange,
            "purpose": self.key.purpose,
            "shared_with": self.key.shared_with,
            "checked_at": iso(self.checked_at),
            "findings": [f.to_json() for f in self.findings],
            "score": self.score,
            "blast_radius": self.blast_radius,
        })
        return d


@dataclass(repr=False)
class AuditResult:
    generated_at: datetime
    keys: list[KeyAudit]
    policy: Policy
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # Short on purpose. When asyncio.run ends in the main thread (run_audit), Python 3.11's Runner formats the
        # repr of its SIGINT handler twice, and with it the task holding this result: the full repr of 200 keys'
        # profiles and findings took ~25 ms each time, after the audit was over (tests/benchmarks, team_audit).
        return (f"AuditResult({len(self.keys)} keys, generated_at={self.generated_at.isoformat()}, "
                f"cancelled={self.cancelled}, errors={len(self.errors)})")

    @property
    def score(self) -> int:
        return overall_score([k.score for k in self.keys])

    def counts(self) -> dict[str, int]:
        c = dict.fromkeys(SEVERITIES, 0)
        for k in self.keys:
            for f in k.findings:
                c[f.severity] += 1
        return c

    def reaches(self, severity: Severity | str) -> bool:
        """True when any finding is at or above ``severity`` (``audit --fail-on``)."""
        return any(k.reaches(severity) for k in self.keys)

    def summary(self) -> Summary:
        return summarize(k.assessment for k in self.keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_at": iso(self.generated_at),
            "score": self.score,
            "score_formula": SCORE_FORMULA,
            "counts": self.counts(),
            "policy": self.policy.to_dict(),
            "cancelled": self.cancelled,
            "keys": [k.to_json() for k in self.keys],
        }
