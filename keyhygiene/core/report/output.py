"""Writing a report file: render, then replace the target in one step so a reader never sees half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from keyhygiene.core.report.csv_report import render_csv
from keyhygiene.core.report.html import render_html
from keyhygiene.core.report.json_report import render_json
from keyhygiene.core.report.model import Report

TEXT_FORMATS: tuple[str, ...] = ("html", "json", "csv")
FORMATS: tuple[str, ...] = ("html", "pdf", "json", "csv")
SUFFIXES: dict[str, str] = {"html": ".html", "pdf": ".pdf", "json": ".json", "csv": ".csv"}


def render_text(report: Report, fmt: str) -> str:
    if fmt == "html":
        return render_html(report)  # the report's shared JSON document: built once for every format
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    raise ValueError(f"{fmt!r} is not a text report format (one of {', '.join(TEXT_FORMATS)})")


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file next to ``path`` and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes 0600 files; a report is meant to be handed on, so give it the user's usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_report(report: Report, fmt: str, path: Path) -> None:
    write_atomic(path, render_text(report, fmt).encode("utf-8"))
