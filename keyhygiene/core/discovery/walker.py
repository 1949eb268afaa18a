"""Walk folders fast and safely, yielding only files whose *name* some detector wants.

Speed comes from deciding by name: ``os.scandir`` hands us names and entry types without a ``stat`` per file,
and only the rare candidate is stat'ed and opened. Safety: every OS error is counted and the walk goes on;
directory symlinks are followed but each real directory is entered once, so a symlink loop ends the branch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from keyhygiene.core.discovery.detectors import Detector, detectors_for
from keyhygiene.core.discovery.model import ScanStats

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024  # bot configs are kilobytes; a bigger "config" is data or a log
BINARY_SNIFF_BYTES = 8192
MAX_ERRORS = 50

# Folders that never hold a user's own config but can hold hundreds of thousands of files.
SKIP_DIR_NAMES = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", "site-packages", "dist-packages", ".cache", ".npm", ".yarn", ".pnpm-store", ".cargo",
    ".rustup", ".gradle", ".m2", ".venv", "venv", ".virtualenvs", "bower_components", ".next", ".nuxt",
    ".terraform", ".idea", ".vscode-server", "Caches",
})
# A folder that contains one of these is a virtualenv / conda env, whatever it is called.
ENV_MARKERS = frozenset({"pyvenv.cfg", "conda-meta"})


@dataclass(frozen=True)
class Root:
    path: Path
    max_depth: int | None = None  # None = unlimited; 0 = only the files directly in ``path``


@dataclass
class WalkOptions:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    skip_dir_names: frozenset[str] = SKIP_DIR_NAMES
    exclude: Sequence[Path] = ()  # never enter these (the app's own data dir: backups hold plaintext copies)
    follow_symlinks: bool = True
    max_depth: int = 64  # a safety net for pathological trees


@dataclass
class Candidate:
    path: Path
    detectors: list[Detector]
    data: bytes
    mode: int


@dataclass
class WalkState:
    stats: ScanStats = field(default_factory=ScanStats)
    errors: list[str] = field(default_factory=list)
    visited_dirs: set[tuple[int, int]] = field(default_factory=set)
    seen_files: set[tuple[int, int]] = field(default_factory=set)

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


def _dir_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def walk(
    roots: Sequence[Root],
    options: WalkOptions | None = None,
    state: WalkState | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Candidate]:
    opts = options or WalkOptions()
    st = state or WalkState()
    excluded = {_dir_id(str(p)) for p in opts.exclude} - {None}
    for root in roots:
        root_path = str(root.path)
        try:
            mode = os.stat(root_path).st_mode
        except OSError as exc:
            st.stats.unreadable += 1
            st.error(f"cannot read {root_path}: {exc.strerror or exc}")
            continue
        if stat.S_ISREG(mode):
            st.stats.files += 1
            cand = _candidate(Path(root_path), opts, st, explicit=True)
            if cand is not None:
                yield cand
            continue
        depth_limit = opts.max_depth if root.max_depth is None else min(root.max_depth, opts.max_depth)
        yield from _walk_dir(root_path, depth_limit, opts, st, excluded, should_stop)


def _walk_dir(
    top: str,
    depth_limit: int,
    opts: WalkOptions,
    st: WalkState,
    excluded: set[tuple[int, int] | None],
    should_stop: Callable[[], bool] | None,
) -> Iterator[Candidate]:
    stats = st.stats
    ident = _dir_id(top)
    if ident is None or ident in st.visited_dirs or ident in excluded:
        return
    st.visited_dirs.add(ident)
    stack: list[tuple[str, int]] = [(top, 0)]
    while stack:
        if should_stop is not None and should_stop():
            return
        dirpath, depth = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError as exc:
            stats.unreadable += 1
            st.error(f"cannot read {dirpath}: {exc.strerror or exc}")
            continue
        stats.dirs += 1
        names = {e.name for e in entries}
        if depth > 0 and not names.isdisjoint(ENV_MARKERS):
            stats.skipped_dirs += 1  # a virtualenv: thousands of files, none of them the user's config
            continue
        parent = os.path.basename(dirpath).lower()
        for e in entries:
            try:
                is_link = e.is_symlink()
                if e.is_dir(follow_symlinks=False) or (is_link and opts.follow_symlinks and e.is_dir()):
                    if e.name in opts.skip_dir_names:
                        stats.skipped_dirs += 1
                        continue
                    if depth + 1 > depth_limit:
                        continue
                    child = _dir_id(e.path)
                    if child is None:
                        stats.unreadable += 1
                        continue
                    if child in excluded:
                        stats.skipped_dirs += 1
                        continue
                    if child in st.visited_dirs:
                        if is_link:
                            stats.symlink_loops += 1
                        continue
                    st.visited_dirs.add(child)
                    stack.append((e.path, depth + 1))
                    continue
            except OSError:
                stats.unreadable += 1
                continue
            stats.files += 1
            name = e.name.lower()
            dets = detectors_for(name, parent)
            if not dets:
                continue
            cand = _candidate(Path(e.path), opts, st, detectors=dets)
            if cand is not None:
                yield cand


def _candidate(
    path: Path, opts: WalkOptions, st: WalkState, detectors: list[Detector] | None = None, explicit: bool = False
) -> Candidate | None:
    stats = st.stats
    if detectors is None:
        detectors = detectors_for(path.name.lower(), path.parent.name.lower())
        if explicit and not detectors:
            # A file the user named explicitly is worth every detector, whatever it is called.
            from keyhygiene.core.discovery.detectors import DETECTORS

            detectors = list(DETECTORS)
        if not detectors:
            return None
    stats.candidates += 1
    try:
        fst = os.stat(path)
        if not stat.S_ISREG(fst.st_mode):
            return None
        ident = (fst.st_dev, fst.st_ino)
        if ident in st.seen_files:  # the same file reached through a symlink or an overlapping root
            return None
        st.seen_files.add(ident)
        if fst.st_size > opts.max_file_bytes:
            stats.skipped_large += 1
            return None
        with open(path, "rb") as fh:
            data = fh.read(opts.max_file_bytes + 1)
    except OSError as exc:
        stats.unreadable += 1
        st.error(f"cannot read {path}: {exc.strerror or exc}")
        return None
    if len(data) > opts.max_file_bytes:
        stats.skipped_large += 1
        return None
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        stats.skipped_binary += 1
        return None
    return Candidate(path=path, detectors=detectors, data=data, mode=fst.st_mode)
