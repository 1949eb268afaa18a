"""The report's content hash: what exactly is hashed, and how anyone can check it.

Definition (printed in every HTML and PDF report):
  the SHA-256 of the JSON report document without its ``content_sha256`` member, serialised as canonical JSON —
  object keys sorted, no insignificant whitespace (separators ``,`` and ``:``), non-ASCII characters as UTF-8
  rather than ``\\u`` escapes, integers only — and encoded as UTF-8.

That document is what ``report --format json`` writes; the HTML report embeds it in
``<script type="application/json" id="keyhygiene-report-data">`` and the PDF attaches it as ``keyhygiene-report.json``.
A reader re-serialises the embedded document and compares digests, so a changed number, label or finding shows.
(It proves the content matches its own digest, not who made it: send the digest along a separate channel.)

The CSV report carries no JSON document, so it has a digest of its own, in its last column ``report_sha256`` (repeated
on every row, like the other ``report_*`` columns, so it survives filtering):
  the SHA-256 of the CSV's records — the header first, then every key's row, in file order — each without its last
  cell (the ``report_sha256`` column itself), written as the report writer writes them — Python's ``csv`` "excel"
  dialect: cells separated by ``,``; a cell quoted with ``"`` only when it holds ``,``, ``"``, CR or LF, an inner
  ``"`` doubled; every record, the last included, ended by CRLF — and encoded as UTF-8 without a byte-order mark.
For a file as the app wrote it, that is its bytes with ``,report_sha256`` cut from the end of the header and ``,``
plus the digest from the end of every row. A checker parses the file, requires one digest on every row, re-writes
the records without it and compares; a CSV with no key rows has nowhere to carry a digest and cannot be checked.

Run ``python -m keyhygiene.core.report.integrity FILE`` to check a .json, .html, .pdf or .csv report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HASH_FIELD = "content_sha256"
DATA_ELEMENT_ID = "keyhygiene-report-data"
PDF_ATTACHMENT_NAME = "keyhygiene-report.json"
CSV_HASH_COLUMN = "report_sha256"
CSV_FIRST_COLUMN = "exchange"

JQ_RECIPE = "jq -jcS 'del(.content_sha256)' keyhygiene-report.json | sha256sum"
PY_RECIPE = "python -m keyhygiene.core.report.integrity REPORT-FILE"
PDF_EXTRACT = "pdfdetach -saveall REPORT.pdf   (poppler-utils; writes keyhygiene-report.json)"


def canonical_bytes(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != HASH_FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def content_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def with_hash(document: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in document.items() if k != HASH_FIELD}
    out[HASH_FIELD] = content_sha256(out)
    return out


def csv_text(records: Iterable[Sequence[object]]) -> str:
    """Records as the CSV report writes them (RFC 4180: CRLF line ends, fields quoted where needed). The report and
    its checker both write through here, so the canonical form cannot drift from what the file holds."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(records)
    return buf.getvalue()


def csv_sha256(records: Iterable[Sequence[object]]) -> str:
    """The CSV digest of ``records``, given without their ``report_sha256`` cell (see the module docstring)."""
    return hashlib.sha256(csv_text(records).encode("utf-8")).hexdigest()


def embeddable_json(document: dict[str, Any]) -> str:
    """The document as JSON that is safe inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` become
    ``\\u`` escapes, which JSON parsers read back as the same characters, so the digest is unchanged."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class IntegrityError(ValueError):
    pass


def extract_document(path: Path) -> dict[str, Any]:
    """The embedded JSON document of a .json, .html or .pdf report."""
    return _document(path, path.read_bytes())


def _is_csv(path: Path, data: bytes) -> bool:
    # By content too: `report --format csv -o -` output may be saved under any name.
    return path.suffix.lower() == ".csv" or data.startswith(CSV_FIRST_COLUMN.encode() + b",")


def _document(path: Path, data: bytes) -> dict[str, Any]:
    if data.lstrip().startswith(b"{"):
        return json.loads(data.decode("utf-8"))
    if data.startswith(b"%PDF"):
        return json.loads(_pdf_attachment(data).decode("utf-8"))
    text = data.decode("utf-8")
    m = re.search(rf'<script[^>]*id="{DATA_ELEMENT_ID}"[^>]*>(.*?)</script>', text, re.S)
    if not m:
        raise IntegrityError(f"{path} has no embedded report data (element #{DATA_ELEMENT_ID}).")
    return json.loads(m.group(1))


def _pdf_attachment(data: bytes) -> bytes:
    """The attached report document of a PDF this app wrote. Not a general PDF parser: it follows the file
    specification's ``/EF <</F n 0 R>>`` to that object's stream, which is how Qt's PDF writer lays it out."""
    for ref in re.finditer(rb"/EF\s*<<\s*/F\s+(\d+)\s+0\s+R", data):
        obj = re.search(rb"(?:^|[\r\n])" + ref.group(1) + rb"\s+0\s+obj\s*<<(.*?)>>\s*stream\r?\n", data, re.S)
        if obj is None:
            continue
        header, start = obj.group(1), obj.end()
        length = _pdf_int(data, header)
        raw = data[start : start + length] if length is not None else data[start : data.find(b"endstream", start)]
        body = zlib.decompress(raw) if b"/FlateDecode" in header else raw
        if body.lstrip().startswith(b"{"):
            return body
    raise IntegrityError("this PDF has no attached report data")


def _pdf_int(data: bytes, header: bytes) -> int | None:
    """The stream's /Length, direct or through an indirect object."""
    m = re.search(rb"/Length\s+(\d+)(\s+0\s+R)?", header)
    if m is None:
        return None
    if not m.group(2):
        return int(m.group(1))
    target = re.search(rb"(?:^|[\r\n])" + m.group(1) + rb"\s+0\s+obj\s*(\d+)\s*endobj", data)
    return int(target.group(1)) if target else None


def verify_csv(path: Path, data: bytes) -> tuple[bool, str, str]:
    """(matches, stated digest, computed digest) for a CSV report. Rows stating different digests do not match
    (rows spliced in from another report, or an edited digest); the stated value then lists them all."""
    records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if not records or records[0][-1:] != [CSV_HASH_COLUMN]:
        raise IntegrityError(f"{path} has no {CSV_HASH_COLUMN} column (a CSV report from an older version?).")
    if len(records) == 1:
        raise IntegrityError(f"{path} has no key rows, so it carries no {CSV_HASH_COLUMN} to check.")
    stated_all = sorted({r[-1] if r else "" for r in records[1:]})  # [] is a blank line: it states nothing
    stated = stated_all[0] if len(stated_all) == 1 else "rows disagree: " + ", ".join(stated_all)
    computed = csv_sha256(r[:-1] for r in records)
    return stated == computed, stated, computed


def verify(path: Path) -> tuple[bool, str, str]:
    """(matches, stated digest, computed digest) for a report file."""
    data = path.read_bytes()
    if not data.lstrip().startswith((b"{", b"%PDF")) and _is_csv(path, data):
        return verify_csv(path, data)
    doc = _document(path, data)
    stated = str(doc.get(HASH_FIELD, ""))
    computed = content_sha256(doc)
    return stated == computed, stated, computed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: {PY_RECIPE}", file=sys.stderr)
        return 2
    try:
        ok, stated, computed = verify(Path(args[0]))
    except (OSError, ValueError) as exc:
        print(f"cannot check {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(f"stated   {stated}\ncomputed {computed}")
    print("OK: the content matches its SHA-256." if ok else "MISMATCH: the report was changed after it was made.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
