"""Hygiene score, 0 (act now) to 100 (nothing to do), per key and for the whole vault.

Per key::

    score = min(100 - sum(PENALTY[f.severity] for f in findings), CAP[worst severity])   clamped to 0..100

    PENALTY: critical 60, high 30, medium 12, low 4, info 0
    CAP:     critical 20, high 50, medium 80, low 95, info/none 100

Each finding costs points, and the worst finding also caps the score, so one critical finding can never hide
behind an otherwise tidy key (it is at most 20), and several small findings still add up. Adding a finding, or
making one more severe, never raises a score (tests check this).

Overall::

    overall = round((mean(key scores) + min(key scores)) / 2)        100 when there are no keys

The mean rewards tidying many keys; the minimum keeps one dangerous key from disappearing in an average.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from keyhygiene.core.models import Finding
from keyhygiene.core.severity import Severity

PENALTY: dict[Severity, int] = {
    Severity.CRITICAL: 60,
    Severity.HIGH: 30,
    Severity.MEDIUM: 12,
    Severity.LOW: 4,
    Severity.INFO: 0,
}
CAP: dict[Severity, int] = {
    Severity.CRITICAL: 20,
    Severity.HIGH: 50,
    Severity.MEDIUM: 80,
    Severity.LOW: 95,
    Severity.INFO: 100,
}

SCORE_FORMULA = (
    "Key score = 100 minus 60 per critical, 30 per high, 12 per medium and 4 per low finding (info costs "
    "nothing), and never more than 20 with a critical finding, 50 with a high, 80 with a medium or 95 with a low "
    "one; never below 0. Overall score = the average of the mean and the lowest key score (100 with no keys)."
)


def _severities(findings: Iterable[Finding | str]) -> list[Severity]:
    return [Severity(f if isinstance(f, str) else f.severity) for f in findings]


def key_score(findings: Iterable[Finding | str]) -> int:
    sevs = _severities(findings)
    if not sevs:
        return 100
    raw = 100 - sum(PENALTY[s] for s in sevs)
    worst = max(sevs, key=lambda s: s.rank)
    return max(0, min(raw, CAP[worst]))


def overall_score(scores: Sequence[int] | Iterable[int]) -> int:
    xs = [max(0, min(100, int(s))) for s in scores]
    if not xs:
        return 100
    mean = sum(xs) / len(xs)
    # Round half up so the formula gives the same number everywhere (Python's round() rounds half to even).
    return int((mean + min(xs)) / 2 + 0.5)


def grade(score: int) -> str:
    """A word for the number, for tables and the UI."""
    if score >= 90:
        return "good"
    if score >= 70:
        return "fair"
    if score >= 40:
        return "poor"
    return "critical"
