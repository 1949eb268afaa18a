"""A 1,000-key vault in all four formats: everything comes out, one entry per key. (How long it takes is
measured by the benchmarks, not asserted here.)"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from keyhygiene.core.models import Exposure, KeyProfile, KeyRecord, Status
from keyhygiene.core.report.engine import AuditEngine
from keyhygiene.core.report.model import build_report
from keyhygiene.core.report.output import render_text
from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.store.vault import Vault

N = 1000
NOW = datetime(2024, 6, 1, tzinfo=UTC)
PERMS = (["read"], ["read", "spot_trade"], ["read", "spot_trade", "futures_trade"], ["read", "withdraw"])


def fill(vault: Vault, n: int = N) -> None:
    start = datetime(2021, 1, 1, tzinfo=UTC)
    with vault.db.transaction() as c:
        for i in range(n):
            exposures = [Exposure("3commas", shared_at=date(2022, 1, 1))] if i % 7 == 0 else []
            if i % 5 == 0:
                exposures.append(Exposure("koinly", shared_at=date(2024, 1, 1)))
            vault.repo.insert_key(c, KeyRecord(
                id=f"k{i:07d}", exchange=SUPPORTED[i % len(SUPPORTED)], label=f"Key {i:04d} <{i % 3}>",
                purpose="bot", fingerprint=f"ab{i % 100:02d}\u2026{i:04d}", key_sha256=f"{i:064x}",
                created_at=start + timedelta(days=i % 1200), added_at=start, updated_at=start,
                exposures=exposures))
        for i in range(n):
            if i % 10 == 9:
                continue  # some keys were never inspected
            status = Status.OK if i % 13 else Status.INVALID_KEY
            profile = KeyProfile(exchange=SUPPORTED[i % len(SUPPORTED)], key=f"ab{i % 100:02d}\u2026{i:04d}",
                                 status=status, permissions=PERMS[i % len(PERMS)] if status == Status.OK else [],
                                 ip_restricted=bool(i % 2), message=None if status == Status.OK else "invalid")
            c.execute("INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                      (f"k{i:07d}", "2024-05-30T00:00:00Z", status.value, json.dumps(profile.to_json())))


@pytest.mark.slow
def test_thousand_keys_in_every_format(qapp, vault: Vault, tmp_path: Path) -> None:
    from keyhygiene.ui.report_pdf import write_pdf

    fill(vault)
    report = build_report(vault, engine=AuditEngine(vault.repo), now=NOW)
    assert report.summary.key_count == N

    doc = json.loads(render_text(report, "json"))
    assert len(doc["keys"]) == N and len({k["id"] for k in doc["keys"]}) == N

    rows = list(csv.DictReader(io.StringIO(render_text(report, "csv"), newline="")))
    assert len(rows) == N

    html = render_text(report, "html")
    assert html.count('<div class="keyblock" id="key-') == N
    assert "Permission matrix by exchange" in html  # large vaults aggregate the per-key charts

    pdf = tmp_path / "big.pdf"
    write_pdf(report, pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
        assert "Key 0000 <0>" in text and f"Key {N - 1:04d}" in text
