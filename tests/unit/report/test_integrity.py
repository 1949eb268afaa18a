"""Checking a report's digest from the file alone: JSON, HTML (embedded data) and the verify command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from keyhygiene.core.report import integrity
from keyhygiene.core.report.html import render_html
from keyhygiene.core.report.json_report import render_json, report_document


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_json_and_html_of_one_report_carry_the_same_digest(golden_report, tmp_path: Path) -> None:
    doc = report_document(golden_report)
    j = write(tmp_path, "r.json", render_json(golden_report, doc))
    h = write(tmp_path, "r.html", render_html(golden_report, doc))
    assert integrity.verify(j) == (True, doc["content_sha256"], doc["content_sha256"])
    assert integrity.verify(h) == (True, doc["content_sha256"], doc["content_sha256"])
    assert doc["content_sha256"] in h.read_text(encoding="utf-8")


def test_embedded_html_data_is_the_json_document(golden_report, tmp_path: Path) -> None:
    doc = report_document(golden_report)
    h = write(tmp_path, "r.html", render_html(golden_report, doc))
    assert integrity.extract_document(h) == json.loads(render_json(golden_report, doc))


def test_an_edit_is_detected(golden_report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = write(tmp_path, "r.html", render_html(golden_report))
    text = h.read_text(encoding="utf-8")
    edited = text.replace('"score":25', '"score":95', 1)
    assert edited != text
    h.write_text(edited, encoding="utf-8")
    ok, stated, computed = integrity.verify(h)
    assert not ok and stated != computed
    assert integrity.main([str(h)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_verify_command_and_missing_data(tmp_path: Path, golden_report, capsys: pytest.CaptureFixture[str]) -> None:
    j = write(tmp_path, "r.json", render_json(golden_report))
    assert integrity.main([str(j)]) == 0
    assert "OK" in capsys.readouterr().out
    bare = write(tmp_path, "x.html", "<html><body>no data</body></html>")
    assert integrity.main([str(bare)]) == 2
    assert integrity.main([]) == 2


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")
def test_printed_jq_recipe_reproduces_the_digest(golden_report, tmp_path: Path) -> None:
    doc = report_document(golden_report)
    write(tmp_path, "keyhygiene-report.json", render_json(golden_report, doc))
    cmd = integrity.JQ_RECIPE.replace(" | sha256sum", "")
    out = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, capture_output=True, check=True).stdout
    assert out == integrity.canonical_bytes(doc)
