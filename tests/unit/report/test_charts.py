"""Chart geometry: what each chart draws for small and large vaults."""

from __future__ import annotations

from dataclasses import replace

from keyhygiene.core.report import charts
from keyhygiene.core.report.model import Report


def texts(c: charts.Chart) -> list[str]:
    return [s.text for s in c.shapes if isinstance(s, charts.Text)]


def rects(c: charts.Chart) -> list[charts.Rect]:
    return [s for s in c.shapes if isinstance(s, charts.Rect)]


def test_risk_distribution_counts_keys_by_worst_finding(golden_report: Report) -> None:
    c = charts.risk_distribution(golden_report)
    assert "2  (33%)" in texts(c)  # two keys whose worst finding is critical, of six
    bars = {r.title.split(":")[0]: r for r in rects(c) if r.title}
    assert bars["critical"].w > bars["high"].w > 0
    assert "info" not in bars  # zero keys: no bar, only the track
    assert bars["critical"].fill == charts.SEVERITY_COLOURS["critical"]


def test_age_chart_marks_keys_over_the_limit(golden_report: Report) -> None:
    c = charts.key_ages(golden_report)
    bars = [r for r in rects(c) if r.title]
    over = {r.title.split(":")[0] for r in bars if r.fill == charts.OVER_COLOUR}
    assert "Rotated spot key" not in over and "Main trading (3Commas)" in over
    assert "policy limit 90 d" in texts(c)
    assert c.caption and "older than the policy's 90 days" in c.caption
    assert len(bars) == len(golden_report.keys)  # ≤ 30 keys: one bar each
    # k0000003 has no creation date: its age counts from when it was added, so it is a minimum.
    assert "\u2265 151 d" in texts(c) and "1 key has no known creation date" in c.caption


def test_permission_matrix_per_key(golden_report: Report) -> None:
    c = charts.permission_matrix(golden_report)
    titles = [r.title for r in rects(c) if r.title]
    assert "Withdrawals <script>alert(1)</script>: Withdraw granted" in titles  # names, not ids (issue 20)
    assert "Koinly tax read-only: Withdraw not granted" in titles
    assert any(t.endswith("not inspected") for t in titles)
    assert "Koinly tax read-only: IP restricted: yes" in titles


def big(report: Report, n: int) -> Report:
    keys = tuple(replace(report.keys[i % len(report.keys)], id=f"x{i}") for i in range(n))
    return replace(report, keys=keys)


def test_large_vaults_aggregate(golden_report: Report) -> None:
    r = big(golden_report, charts.PER_KEY_LIMIT + 1)
    ages = charts.key_ages(r)
    assert len([x for x in rects(ages) if x.title]) == 6  # six age bands, not one bar per key
    total = sum(int(t.split(": ")[1].split()[0]) for t in (x.title for x in rects(ages) if x.title))
    assert total == len(r.keys)
    matrix = charts.permission_matrix(r)
    assert matrix.title == "Permission matrix by exchange"
    assert "Binance (6)" in texts(matrix)  # the display name, not the ccxt id (issue 20)


def test_shortened_labels_keep_the_full_text_in_tooltips(golden_report: Report) -> None:
    long = replace(golden_report.keys[0], label="L" * 60)
    r = replace(golden_report, keys=(long,))
    c = charts.key_ages(r)
    assert any(t.endswith("\u2026") and len(t) == 26 for t in texts(c))
    assert any(x.title and x.title.startswith("L" * 60) for x in rects(c))


def test_nice_axis_maximum() -> None:
    assert charts._nice_max(823) == 1000
    assert charts._nice_max(112.5) == 200
    assert charts._nice_max(3) == 4
    assert charts._nice_max(0.2) == 4
    assert charts._nice_max(80) == 80
    assert charts._nice_max(99999) == 100000
