"""Read-only files and folders for the storage tests, also when the tests run as root (as CI containers do)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def make_unwritable(path: Path) -> Iterator[None]:
    """Make ``path`` (file or folder) unwritable for this process, or skip the test where that is impossible.

    Permission bits do not bind root, so as root the immutable attribute is used (ext4, xfs, btrfs); on a
    filesystem without it (overlayfs, tmpfs) the test is skipped: the SQLite-level read-only tests still run.
    """
    if os.geteuid() != 0:
        old = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(old)
        return
    chattr = shutil.which("chattr")
    if not chattr or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a filesystem without chattr +i: cannot make a path unwritable")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True, capture_output=True)


def open_sqlite_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sqlite3.connect in this test opens its file read-only (``mode=ro``): SQLite then reports exactly
    what it reports for a file the user may not write, whoever runs the tests."""
    real_connect = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        uri = Path(database).resolve().as_uri() + "?mode=ro"
        kwargs["uri"] = True
        return real_connect(uri, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
