"""Score: documented values, caps, monotonicity (property-based), overall formula."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import Finding
from keyhygiene.core.score import CAP, PENALTY, SCORE_FORMULA, grade, key_score, overall_score
from keyhygiene.core.severity import SEVERITIES, Severity

severity = st.sampled_from(SEVERITIES)


def f(sev: str) -> Finding:
    return Finding(rule="r", severity=sev, title="t", detail="d", fix="x")


def test_documented_values() -> None:
    assert key_score([]) == 100
    assert key_score([f("info")] * 5) == 100
    assert key_score([f("low")]) == 95 - 0 and key_score([f("low")] * 2) == 92
    assert key_score([f("medium")]) == 80 and key_score([f("medium")] * 2) == 76
    assert key_score([f("high")]) == 50 and key_score([f("high")] * 2) == 40
    assert key_score([f("critical")]) == 20 and key_score([f("critical")] * 2) == 0
    assert key_score([f("critical")] * 5) == 0  # never below zero


def test_one_critical_cannot_hide_behind_a_tidy_key() -> None:
    assert key_score([f("critical"), f("info"), f("info")]) <= CAP[Severity.CRITICAL]


def test_accepts_plain_severity_strings() -> None:
    assert key_score(["high", "low"]) == key_score([f("high"), f("low")])


def test_formula_text_matches_the_constants() -> None:
    for sev in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        assert f"{PENALTY[sev]} per {sev.value}" in SCORE_FORMULA
        assert f"{CAP[sev]} with a" in SCORE_FORMULA


@given(st.lists(severity, max_size=12), severity)
def test_adding_a_finding_never_raises_the_score(sevs: list[str], extra: str) -> None:
    assert key_score([*sevs, extra]) <= key_score(sevs)


@given(st.lists(severity, min_size=1, max_size=12), st.data())
def test_a_worse_finding_never_raises_the_score(sevs: list[str], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(sevs) - 1))
    worse = data.draw(st.sampled_from([s for s in SEVERITIES if Severity(s).rank >= Severity(sevs[i]).rank]))
    changed = [*sevs[:i], worse, *sevs[i + 1:]]
    assert key_score(changed) <= key_score(sevs)


@given(st.lists(severity, max_size=12))
def test_scores_stay_in_range(sevs: list[str]) -> None:
    assert 0 <= key_score(sevs) <= 100


def test_overall_formula() -> None:
    assert overall_score([]) == 100
    assert overall_score([100, 100]) == 100
    assert overall_score([100, 20]) == 40  # mean 60, min 20
    assert overall_score([90, 80, 70]) == 75  # mean 80, min 70
    assert overall_score([100, 100, 100, 0]) == 38  # mean 75, min 0: 37.5 rounds half up


@given(st.lists(st.integers(0, 100), min_size=1, max_size=20), st.data())
def test_overall_is_monotone_in_every_key(scores: list[int], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(scores) - 1))
    lower = data.draw(st.integers(0, scores[i]))
    assert overall_score([*scores[:i], lower, *scores[i + 1:]]) <= overall_score(scores)
    assert min(scores) <= overall_score(scores) <= max(scores)


def test_grades() -> None:
    assert [grade(s) for s in (100, 90, 89, 70, 69, 40, 39, 0)] == [
        "good", "good", "fair", "fair", "poor", "poor", "critical", "critical"]
