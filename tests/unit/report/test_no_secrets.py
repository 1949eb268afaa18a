"""No secret and no full API key in any report format, for a vault whose secrets are known.

Reports are written inside the watched data dir, so the session-end leak check searches them as well.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile
from keyhygiene.core.report.engine import AuditEngine
from keyhygiene.core.report.model import build_report
from keyhygiene.core.report.output import write_text_report
from keyhygiene.store.vault import ServiceRef, Vault

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def pdf_streams(data: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


@pytest.fixture
def known_vault(vault: Vault, secret) -> tuple[Vault, list[str], list[str]]:
    secrets: list[str] = []
    api_keys: list[str] = []
    for i, ex in enumerate(("binance", "kucoin", "okx", "kraken", "bybit")):
        api_key, sec = secret(f"AK{i}", 32), secret(f"SK{i}", 40)
        passphrase = secret(f"PP{i}", 16) if ex in ("kucoin", "okx") else None
        rec = vault.add_key(ex, f"{ex} key {i}", Credentials(api_key, sec, passphrase), purpose="bot",
                            shared_with=[ServiceRef("3commas", date(2022, 5, 1))], note=f"note {i}")
        vault.repo.record_inspection(rec.id, KeyProfile(
            exchange=ex, key=mask_key(api_key), permissions=["read", "spot_trade"], ip_restricted=False,
            created_at=datetime(2023, 1, 1, tzinfo=UTC)), at=datetime(2024, 5, 30, tzinfo=UTC))
        secrets += [sec] + ([passphrase] if passphrase else [])
        api_keys.append(api_key)
    return vault, secrets, api_keys


def test_no_secret_or_full_key_in_any_format(qapp, known_vault, data_dir: Path) -> None:
    from keyhygiene.ui.report_pdf import write_pdf

    vault, secrets, api_keys = known_vault
    report = build_report(vault, engine=AuditEngine(vault.repo), now=NOW)
    out = data_dir / "reports"
    files = {fmt: out / f"report.{fmt}" for fmt in ("html", "json", "csv", "pdf")}
    for fmt in ("html", "json", "csv"):
        write_text_report(report, fmt, files[fmt])
    write_pdf(report, files["pdf"])

    blobs: dict[str, bytes] = {name: p.read_bytes() for name, p in files.items()}
    pdf = blobs["pdf"]
    for i, s in enumerate(pdf_streams(pdf)):
        blobs[f"pdf-stream-{i}"] = s
    if shutil.which("pdftotext"):
        blobs["pdf-text"] = subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True,
                                           check=True).stdout
    assert len(blobs) > 4
    for name, blob in blobs.items():
        for value in secrets + api_keys:
            assert value.encode() not in blob, f"{name} holds a secret or a full API key"
        for key in api_keys:
            assert key[4:-4].encode() not in blob, f"{name} holds the hidden middle of an API key"
    # What may appear: the masked form, in every format.
    for key in api_keys:
        masked = mask_key(key)
        for name in ("html", "json", "csv", "pdf-text"):
            if name in blobs:
                assert masked.encode() in blobs[name], f"{name} lacks the masked key {masked}"
