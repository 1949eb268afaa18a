"""Golden files: every format rendered from the fixed data set (tests/unit/report/dataset.py) must match
tests/golden/report/ byte for byte.

After an intended change to a template or a renderer, regenerate and review the diff:

    KEYHYGIENE_UPDATE_GOLDEN=1 /work/venv/bin/pytest tests/unit/report/test_golden.py
    git diff tests/golden/report/

The PDF's golden is the rich-text HTML handed to Qt (title page and body): PDF bytes carry a creation time and
depend on the fonts installed, while this source does not. What Qt makes of it is checked in test_pdf.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keyhygiene.core.report.csv_report import render_csv
from keyhygiene.core.report.html import render_html
from keyhygiene.core.report.json_report import render_json, report_document
from keyhygiene.core.report.model import Report, build_report
from keyhygiene.store.vault import Vault
from tests.unit.report import dataset

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report"
UPDATE = os.environ.get("KEYHYGIENE_UPDATE_GOLDEN") == "1"
VERSION = "0.0.0-golden"  # so a release does not churn the goldens


@pytest.fixture
def report(golden_vault: Vault) -> Report:
    return build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW, app_version=VERSION)


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"missing golden {path}; run with KEYHYGIENE_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from its golden; see this module's docstring to regenerate"


def test_json_golden(report: Report) -> None:
    check("report.json", render_json(report))


def test_csv_golden(report: Report) -> None:
    check("report.csv", render_csv(report))


def test_html_golden(report: Report) -> None:
    check("report.html", render_html(report))


def test_pdf_source_golden(report: Report) -> None:
    pytest.importorskip("PySide6")
    from keyhygiene.ui.report_pdf import pdf_sources

    title, body = pdf_sources(report, report_document(report))
    check("report.pdf-title.html", title)
    check("report.pdf-body.html", body)


def test_rendering_is_deterministic(golden_vault: Vault) -> None:
    a = build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW, app_version=VERSION)
    b = build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW, app_version=VERSION)
    assert render_html(a) == render_html(b) and render_csv(a) == render_csv(b)
