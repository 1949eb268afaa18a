"""The PDF report through Qt: real text (pdftotext finds the labels), a title page, page numbers, vector charts
and the attached JSON document that the printed digest covers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from keyhygiene.core.report import integrity
from keyhygiene.core.report.json_report import render_json, report_document
from keyhygiene.core.report.model import Report
from tests.unit.report import dataset

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@pytest.fixture
def pdf(qapp, golden_report: Report, tmp_path: Path) -> tuple[Path, dict]:
    from keyhygiene.ui.report_pdf import write_pdf

    doc = report_document(golden_report)
    path = tmp_path / "report.pdf"
    write_pdf(golden_report, path, doc)
    return path, doc


def pdftext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def test_labels_are_selectable_text(pdf) -> None:
    path, _ = pdf
    text = pdftext(path)
    for label in ("Main trading (3Commas)", "Koinly tax read-only", "Rotated spot key"):
        assert label in text
    assert dataset.XSS_LABEL in text  # printed as the user typed it, not interpreted
    assert "Ünïcødé ключ" in text


def test_title_page_and_page_numbers(pdf) -> None:
    path, doc = pdf
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 3
    assert "A4" in info and "KeyHygiene" in info
    first = pdftext(path, "-f", "1", "-l", "1")
    assert "API key hygiene report" in first and f"Page 1 of {pages}" in first
    assert doc["content_sha256"] in first
    last = pdftext(path, "-f", str(pages), "-l", str(pages))
    assert f"Page {pages} of {pages}" in last
    assert doc["content_sha256"] in last and "What is hashed" in last


def test_same_sections_as_the_html(pdf) -> None:
    text = pdftext(pdf[0])
    for section in ("Summary", "Charts", "Risk distribution", "Key ages against the policy limit",
                    "Permission matrix", "Keys", "Findings and fixes", "Exposures", "Rotation history",
                    "Policy used", "Integrity"):
        assert section in text
    for findings in dataset.FINDINGS.values():
        for f in findings:
            assert f.title in text.replace("\n", " ")


def test_charts_are_vector_text(pdf) -> None:
    # Chart labels come out as text: the SVG was drawn as vectors, not pasted as a picture.
    text = pdftext(pdf[0])
    assert "policy limit 90 d" in text and "Critical" in text and "withdraw" in text


def test_attached_document_verifies(pdf, golden_report: Report, tmp_path: Path) -> None:
    path, doc = pdf
    assert integrity.verify(path) == (True, doc["content_sha256"], doc["content_sha256"])
    if shutil.which("pdfdetach"):
        out = tmp_path / "detached"
        out.mkdir()
        subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)], check=True, capture_output=True)
        attached = out / integrity.PDF_ATTACHMENT_NAME
        assert attached.read_text(encoding="utf-8") == render_json(golden_report, doc)


def test_renders_with_poppler(pdf, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf[0]), str(tmp_path / "page")], check=True,
                   capture_output=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 3


def test_empty_vault(qapp, empty_report: Report, tmp_path: Path) -> None:
    from keyhygiene.ui.report_pdf import write_pdf

    write_pdf(empty_report, tmp_path / "empty.pdf")
    assert "The vault holds no keys." in pdftext(tmp_path / "empty.pdf")
