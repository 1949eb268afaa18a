"""Every secret a test hands to the app is registered here; the session-end check searches for them on disk."""

from __future__ import annotations

import os
from pathlib import Path

TEST_SECRETS: set[str] = set()
WATCHED_DIRS: set[Path] = set()


def register_secret(*values: str) -> None:
    for v in values:
        if v and len(v) >= 8:
            TEST_SECRETS.add(v)


def watch_dir(path: Path) -> None:
    WATCHED_DIRS.add(Path(path))


def find_leaks() -> list[str]:
    leaks: list[str] = []
    needles = [s.encode() for s in TEST_SECRETS]
    for root in WATCHED_DIRS:
        if not root.exists():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                p = Path(dirpath) / f
                try:
                    data = p.read_bytes()
                except OSError:
                    continue
                for n in needles:
                    if n in data:
                        leaks.append(f"{p}: contains a test secret ({n[:4].decode(errors='replace')}…)")
    return leaks
