"""A large vault's PDF lists its keys as two-line entries instead of a table (Qt lays table cells out several
times over, which made a 1,000-key PDF take seconds); every fact of the table row stays, in the same order."""

from __future__ import annotations

import re
from html import unescape

import pytest

from keyhygiene.core.report.engine import AuditEngine
from keyhygiene.core.report.html import exchange_name, format_day
from keyhygiene.core.report.json_report import shared_document
from keyhygiene.core.report.model import build_report
from keyhygiene.store.vault import Vault
from tests.unit.report.test_large_vault import NOW, fill

pytest.importorskip("PySide6")


def keys_section(body: str) -> str:
    start = body.index(">Keys</h2>")
    return body[start : body.index("<h2>Findings and fixes</h2>", start)]


def entries(section: str) -> list[str]:
    return re.findall(r'<p class="keyrow(?:-alt)?">(.*?)</p>', section, re.S)


def text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_a_large_vault_lists_every_key_once_in_order(vault: Vault) -> None:
    from keyhygiene.ui.report_pdf import COMPACT_ABOVE_KEYS, pdf_sources

    n = COMPACT_ABOVE_KEYS + 10
    fill(vault, n)
    report = build_report(vault, engine=AuditEngine(vault.repo), now=NOW)
    _, body = pdf_sources(report, shared_document(report))
    section = keys_section(body)
    assert "<table" not in section
    rows = entries(section)
    assert len(rows) == n
    # Alternate entries are striped, like the table's rows.
    classes = re.findall(r'<p class="(keyrow(?:-alt)?)">', section)
    assert classes[:4] == ["keyrow", "keyrow-alt", "keyrow", "keyrow-alt"]
    for k, row in zip(report.keys, rows, strict=True):
        words = text(row)
        assert words.startswith(f"{k.label} {exchange_name(k.exchange)} {k.key} · {k.purpose} · {k.id}")
        assert f"{k.highest_severity or 'none'} score {k.score}" in words
        assert f"last rotated {format_day(k.last_rotated)}" in words
        if k.age_days is not None:
            assert f"age {'≥ ' if k.created_source == 'added' else ''}{k.age_days} d" in words
        assert f"shared with {', '.join(k.shared_with_names) if k.shared_with else '—'}" in words
        if k.status is None:
            assert "status not checked" in words and "permissions unknown" in words
        elif k.status == "ok":
            assert "status ok" in words
            # User-facing names, as the window's chips show them (issue 20).
            assert "permissions " + ", ".join(name for p, name in (("read", "Read"), ("spot_trade", "Spot"),
                                                                    ("futures_trade", "Futures"),
                                                                    ("withdraw", "Withdraw"))
                                               if p in (k.permissions or [])) in words
            assert ("IP limit yes" if k.ip_restricted else "IP limit any IP") in words
        else:
            assert f"status {k.status.replace('_', ' ')}" in words
    # Labels are text, never markup: the fill's "<0>" suffix comes out escaped.
    assert "Key 0000 &lt;0&gt;" in section


def test_a_small_vault_keeps_the_table(golden_report) -> None:
    from keyhygiene.ui.report_pdf import pdf_sources

    section = keys_section(pdf_sources(golden_report)[1])
    assert '<table class="grid"' in section and not entries(section)


def test_title_page_says_the_policy_in_words(golden_report) -> None:
    """Issue 20: the title page reads as sentences, not setting names such as ``disabled_rules``."""
    from dataclasses import replace

    from keyhygiene.core.policy import Policy
    from keyhygiene.core.report.engine import policy_view
    from keyhygiene.ui.report_pdf import pdf_sources

    def policy_row(policy: Policy) -> str:
        title, _ = pdf_sources(replace(golden_report, policy=policy_view(policy)))
        return text(title.split("Policy", 1)[1].split("Results", 1)[0])

    row = policy_row(Policy())
    assert "Keys older than 90 days are flagged" in row
    assert "a key given to more than 1 consumer is flagged" in row
    assert "rules switched off: none" in row
    for setting in ("disabled_rules", "max_consumers", "max_age_days", "expiry_warning_days"):
        assert setting not in row
    row = policy_row(Policy(max_age_days=30, max_consumers=2, disabled_rules=("withdraw_enabled",)))
    assert "Keys older than 30 days" in row and "more than 2 consumers" in row
    assert "rules switched off: “The key can withdraw funds”" in row
    assert "withdraw_enabled" not in row


def _lines_ending_inside_a_word(doc) -> list[str]:
    doc.documentLayout().documentSize()  # lays the document out
    broken = []
    block = doc.begin()
    while block.isValid():
        text, layout = block.text(), block.layout()
        for i in range(layout.lineCount()):
            end = layout.lineAt(i).textStart() + layout.lineAt(i).textLength()
            if 0 < end < len(text) and not text[end - 1].isspace() and not text[end].isspace():
                broken.append(text[max(0, end - 12):end + 12])
        block = block.next()
    return broken


def test_title_page_never_breaks_a_word(golden_report, qapp, tmp_path) -> None:
    """Issue 20: Qt's default wrap cuts a word too long for the line anywhere; the title page wraps at words."""
    from dataclasses import replace

    from PySide6.QtGui import QPdfWriter

    from keyhygiene.core.report.engine import PolicyView
    from keyhygiene.ui.report_pdf import _setup, pdf_sources, title_document

    policy = PolicyView(values={"max_age_days": 90, "allowed_hosts": "mybot" * 30 + ".example.org"}, max_age_days=90)
    writer = QPdfWriter(str(tmp_path / "t.pdf"))
    _setup(writer)
    for report in (golden_report, replace(golden_report, policy=policy)):
        title, _ = pdf_sources(report)
        assert _lines_ending_inside_a_word(title_document(title, writer)) == []
