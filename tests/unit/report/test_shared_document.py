"""One JSON document per report: the JSON file, the HTML embed and the PDF's digest and attachment all come from
the same document, built and serialised once (``json_report.shared_document``), while ``report_document`` still
hands each caller a copy of its own."""

from __future__ import annotations

import json
from pathlib import Path

from keyhygiene.core.report import integrity
from keyhygiene.core.report.html import render_html
from keyhygiene.core.report.integrity import HASH_FIELD
from keyhygiene.core.report.json_report import render_json, report_document, shared_document
from keyhygiene.core.report.model import Report
from keyhygiene.core.report.output import render_text


def test_the_document_and_its_text_are_made_once(golden_report: Report) -> None:
    doc = shared_document(golden_report)
    assert shared_document(golden_report) is doc
    text = render_json(golden_report)
    assert render_json(golden_report) is text
    assert render_json(golden_report, doc) is text  # handing in the shared document reuses its text too
    # The cached text is exactly what a fresh document renders to.
    assert text == render_json(golden_report, report_document(golden_report))


def test_report_document_is_a_private_copy(golden_report: Report) -> None:
    mine = report_document(golden_report)
    mine["keys"].clear()
    mine[HASH_FIELD] = "0" * 64
    doc = json.loads(render_json(golden_report))
    assert len(doc["keys"]) == len(golden_report.keys)
    assert integrity.content_sha256(doc) == doc[HASH_FIELD] == shared_document(golden_report)[HASH_FIELD]


def test_an_explicit_document_is_rendered_not_cached(golden_report: Report) -> None:
    other = report_document(golden_report)
    other["keys"] = other["keys"][:1]
    assert len(json.loads(render_json(golden_report, other))["keys"]) == 1
    assert len(json.loads(render_json(golden_report))["keys"]) == len(golden_report.keys)


def test_every_text_format_carries_the_shared_digest(golden_report: Report, tmp_path: Path) -> None:
    sha = shared_document(golden_report)[HASH_FIELD]
    html = tmp_path / "r.html"
    html.write_text(render_text(golden_report, "html"), encoding="utf-8")
    assert integrity.verify(html) == (True, sha, sha)
    assert integrity.extract_document(html) == json.loads(render_text(golden_report, "json"))
    assert render_html(golden_report) == render_text(golden_report, "html")


def test_the_pdf_attaches_the_json_report(qapp, golden_report: Report, tmp_path: Path) -> None:
    from keyhygiene.ui.report_pdf import write_pdf

    path = tmp_path / "r.pdf"
    write_pdf(golden_report, path)  # no document handed in: the shared one
    sha = shared_document(golden_report)[HASH_FIELD]
    assert integrity.verify(path) == (True, sha, sha)
    attached = integrity._pdf_attachment(path.read_bytes()).decode("utf-8")
    assert attached == render_text(golden_report, "json")
