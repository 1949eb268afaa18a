"""The HTML report: self-contained, escaped, with charts, every finding and fix, printable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from keyhygiene.core.report.html import format_datetime, format_duration, is_safe_url, render_html
from tests.unit.report import dataset


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def test_labels_are_text_never_markup(golden_report) -> None:
    html = render_html(golden_report)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>note</b>" not in html and "&lt;b&gt;note&lt;/b&gt;" in html
    assert "<b>now</b>" not in html  # finding text from the engine is escaped too
    p = parsed(html)
    # The only script element is the inert JSON data block.
    assert [s.get("type") for s in p.scripts] == ["application/json"]
    assert any("Withdrawals <script>alert(1)</script>" in t for t in p.text)


def test_embedded_data_cannot_close_its_script_element(golden_report) -> None:
    html = render_html(golden_report)
    data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert "<" not in data and ">" not in data
    assert "\\u003cscript\\u003e" in data


def test_self_contained(golden_report) -> None:
    html = render_html(golden_report)
    p = parsed(html)
    for tag, attrs in p.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs or tag == "script" and attrs.get("src") is None
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html
    # Links only to the sources of incidents, and only http(s): a javascript: source stays text.
    hrefs = [a.get("href") or "" for t, a in p.tags if t == "a"]
    assert all(h.startswith(("#", "https://", "http://")) for h in hrefs)
    assert 'href="javascript:' not in html and "javascript:alert(2)" in html


def test_charts_are_inline_svg(golden_report) -> None:
    html = render_html(golden_report)
    for chart in ("chart-risk", "chart-ages", "chart-permissions"):
        assert f'id="{chart}-figure"' in html
    assert html.count("<svg ") == 3
    assert "policy limit 90 d" in html


def test_summary_and_sections(golden_report) -> None:
    html = render_html(golden_report)
    text = " ".join(parsed(html).text)
    for section in ("Summary", "Charts", "Keys", "Findings and fixes", "Exposures", "Rotation history",
                    "Policy used", "Integrity"):
        assert section in text
    assert 'class="value score-poor">25' in html  # overall score
    assert "Need rotation" in text and "Exposed to an incident" in text


def test_every_finding_and_its_fix(golden_report) -> None:
    html = render_html(golden_report)
    for findings in dataset.FINDINGS.values():
        for f in findings:
            from markupsafe import escape

            assert str(escape(f.title)) in html
            assert str(escape(f.fix)) in html


def test_exposures_show_incidents_with_sources(golden_report) -> None:
    html = render_html(golden_report)
    assert "About 100,000 users&#39; API keys published" in html
    assert 'href="https://www.coindesk.com/business/2022/12/28/3commas-ceo-confirms-api-key-leak/"' in html
    assert "touches this key" in html and "does not touch this key" in html


def test_names_version_time_policy_and_digest(golden_report) -> None:
    from keyhygiene.core.report.json_report import report_document

    doc = report_document(golden_report)
    html = render_html(golden_report, doc)
    assert f"KeyHygiene {golden_report.app_version}" in html
    assert "2024-06-01 12:00 UTC" in html
    assert "maximum key age 90 days" in html
    tail = html[html.index('id="integrity"'):]
    assert doc["content_sha256"] in tail and "python -m keyhygiene.core.report.integrity" in tail


def test_minimum_ages_are_marked(golden_report) -> None:
    html = render_html(golden_report)
    assert "≥ 151 d" in html  # k0000003: no creation date, counted from when it was added


def test_prints_cleanly(golden_report) -> None:
    html = render_html(golden_report)
    assert "@media print" in html and "@page" in html
    assert "<details" not in html  # collapsed content would not print


def test_freshness_sentence(golden_report, empty_report) -> None:
    html = render_html(golden_report)
    assert "the oldest is 30 days old" in html and "1 key has never been inspected" in html
    assert "The vault holds no keys." in render_html(empty_report)


def test_helpers() -> None:
    assert format_datetime(dataset.NOW) == "2024-06-01 12:00 UTC"
    assert format_datetime(None) == "\u2014"
    assert [format_duration(s) for s in (30, 600, 7200, 3 * 86400)] == [
        "under two minutes old", "10 minutes old", "2 hours old", "3 days old"]
    assert is_safe_url("https://x.example/a") and not is_safe_url("javascript:alert(1)")
    assert not is_safe_url("file:///etc/passwd") and not is_safe_url("https://")


def test_reader_sees_names_not_ids(golden_report) -> None:
    """Issue 20: permissions, services and exchanges by the names the window uses; JSON and CSV keep the ids."""
    from keyhygiene.ui.report_pdf import pdf_sources

    title, body = pdf_sources(golden_report)
    for surface in (render_html(golden_report), body):
        # What a reader sees: the embedded JSON document keeps its ids (a public contract), so it is left out.
        visible = re.sub(r"<(script|style)\b.*?</\1>", "", surface, flags=re.S)
        text = " ".join(parsed(visible).text)
        assert "3Commas" in text
        assert not re.search(r"\b(spot|margin|futures|options)_trade\b", text), "a permission id in the report"
        assert "3commas," not in text and "(3commas)" not in text
        for name in ("Read", "Spot", "Withdraw"):
            assert name in text
