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


def _assert_edit_detected(path: Path, old: str, new: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Change ``old`` to ``new`` once in the report file: its digest no longer matches, and the command says so."""
    text = path.read_text(encoding="utf-8")
    edited = text.replace(old, new, 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    ok, stated, computed = integrity.verify(path)
    assert not ok and stated != computed
    assert integrity.main([str(path)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_an_edit_is_detected(golden_report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_edit_detected(write(tmp_path, "r.html", render_html(golden_report)), '"score":25', '"score":95', capsys)


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


# ---- the CSV report's own digest --------------------------------------------------------------------------------
def _csv(tmp_path: Path, report, name: str = "r.csv") -> Path:  # type: ignore[no-untyped-def]
    from keyhygiene.core.report.csv_report import render_csv

    return write(tmp_path, name, render_csv(report))


def _records(p: Path) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"), newline="")))


def test_a_written_csv_verifies(golden_report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib
    import re

    p = _csv(tmp_path, golden_report)
    ok, stated, computed = integrity.verify(p)
    assert ok and stated == computed
    # The documented shortcut, done on bytes without the csv module: the file minus ",report_sha256" and
    # ",<digest>" at the end of every record hashes to the stated digest.
    data = p.read_bytes()
    body = data.replace(b",report_sha256\r\n", b"\r\n", 1)
    body = re.sub(rb"," + stated.encode() + rb"\r\n", b"\r\n", body)
    assert body.count(b"\r\n") == data.count(b"\r\n") and stated.encode() not in body
    assert hashlib.sha256(body).hexdigest() == stated
    assert integrity.main([str(p)]) == 0
    assert "OK" in capsys.readouterr().out
    # `report --format csv -o -` saved under any name is still recognised as a CSV report.
    assert integrity.verify(_csv(tmp_path, golden_report, "saved-from-stdout.txt"))[0]


def test_a_changed_csv_cell_is_detected(golden_report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_edit_detected(_csv(tmp_path, golden_report), "Rotated spot key", "Rotated spot kez", capsys)


def test_csv_rows_stating_different_digests_fail(golden_report, golden_vault, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from keyhygiene.core.report.model import build_report
    from tests.unit.report import dataset

    a = _records(_csv(tmp_path, golden_report, "a.csv"))
    other = build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW, app_version="9.9.9-other")
    b = _records(_csv(tmp_path, other, "b.csv"))
    assert a[1][-1] != b[1][-1]
    # Only the last row's digest is swapped: every other cell is report a's, so the recomputed digest still
    # equals what the first rows state — a checker reading one row alone would pass this file.
    spliced = [*a[:-1], a[-1][:-1] + [b[-1][-1]]]
    p = write(tmp_path, "spliced.csv", integrity.csv_text(spliced))
    ok, stated, computed = integrity.verify(p)
    assert not ok and computed == a[1][-1] and stated.startswith("rows disagree")
    assert integrity.main([str(p)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_a_csv_without_a_digest_cannot_be_checked(golden_report, empty_report, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path, "old.csv", integrity.csv_text(r[:-1] for r in _records(_csv(tmp_path, golden_report))))
    assert integrity.main([str(old)]) == 2
    assert "has no report_sha256 column" in capsys.readouterr().err
    header_only = _csv(tmp_path, empty_report, "empty.csv")
    assert integrity.main([str(header_only)]) == 2
    assert "no key rows" in capsys.readouterr().err
