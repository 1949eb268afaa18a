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


class ReportTargetError(OSError):
    """The report cannot go where asked; nothing was written."""


def check_target(path: Path, *, create_parents: bool = False) -> None:
    """A report replaces a regular file or makes a new one, nothing else (issue 18): never a symlink (it would
    be the link's target someone chose), a device, a FIFO or a folder; and, unless asked, never in a folder that
    does not exist yet (a typo in the path is not a reason to make folders)."""
    import stat as stat_mod

    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ReportTargetError(f"{path} cannot be checked: {exc.strerror or exc}") from None
    if st is not None:
        if stat_mod.S_ISLNK(st.st_mode):
            raise ReportTargetError(f"{path} is a symbolic link; give the path of a regular file instead")
        if stat_mod.S_ISDIR(st.st_mode):
            raise ReportTargetError(f"{path} is a folder; give a file name")
        if not stat_mod.S_ISREG(st.st_mode):
            raise ReportTargetError(f"{path} is not a regular file (a device, FIFO or socket); refusing to write")
    if not create_parents and not path.parent.is_dir():
        raise ReportTargetError(f"the folder {path.parent} does not exist; create it first or choose another")


def write_atomic(path: Path, data: bytes, *, create_parents: bool = True) -> None:
    """Write to a temporary file next to ``path`` and rename it over ``path``."""
    path = Path(path)
    if create_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    check_target(path, create_parents=create_parents)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes 0600 files, and 0600 it stays: a report names every key, exchange and service (issue
        # 18: files the app writes are private); the user hands it on deliberately.
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_report(report: Report, fmt: str, path: Path) -> None:
    write_atomic(path, render_text(report, fmt).encode("utf-8"))
