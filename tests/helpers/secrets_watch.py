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


def pem_material(private_pem: str) -> list[bytes]:
    """What would betray a private key: the words ``PRIVATE KEY`` and every base64 line of its body."""
    lines = [line.strip() for line in private_pem.splitlines() if line.strip() and not line.startswith("-----")]
    return [b"PRIVATE KEY", *(line.encode() for line in lines)]


def find_pem_leaks(roots: list[Path], private_pems: list[str]) -> list[str]:
    """Every file under ``roots`` holding ``PRIVATE KEY`` or a body line of one of ``private_pems``."""
    needles = [n for pem in private_pems for n in pem_material(pem)]
    leaks: list[str] = []
    for root in roots:
        files = [root] if root.is_file() else [Path(d) / f for d, _dirs, fs in os.walk(root) for f in fs]
        for p in files:
            try:
                data = p.read_bytes()
            except OSError:
                continue
            leaks += [f"{p}: {n[:11].decode()}…" for n in dict.fromkeys(needles) if n in data]
    return leaks
