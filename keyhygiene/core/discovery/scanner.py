"""``scan(paths) -> ScanResult``: walk, let each candidate file's detectors read it, mask what they found and
say which findings are keys already in the vault. Nothing here writes anywhere."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from keyhygiene.core import redact
from keyhygiene.core.discovery.model import Document, FoundKey, ScanResult
from keyhygiene.core.discovery.roots import default_roots
from keyhygiene.core.discovery.walker import Candidate, Root, WalkOptions, WalkState, walk
from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import KeyRecord

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2000  # files between two progress reports


@dataclass(frozen=True)
class ScanProgress:
    dirs: int
    files: int
    found: int
    current: str


# Looks a found key up by its digest: Repository.find_by_digest, or anything with that shape.
DigestLookup = Callable[[str], KeyRecord | None]


def _lookup_of(vault_or_repo: object | None) -> DigestLookup | None:
    if vault_or_repo is None:
        return None
    repo = getattr(vault_or_repo, "repo", vault_or_repo)
    find = getattr(repo, "find_by_digest", None)
    return find if callable(find) else None


def as_roots(paths: Sequence[str | Path] | None) -> list[Root]:
    if not paths:
        return default_roots()
    return [Root(Path(p).expanduser().absolute()) for p in paths]


def scan(
    paths: Sequence[str | Path] | None = None,
    *,
    vault: object | None = None,
    options: WalkOptions | None = None,
    on_progress: Callable[[ScanProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScanResult:
    """Scan ``paths`` (files or folders; the default roots when empty) for exchange keys.

    ``vault`` (a Vault or Repository) marks findings already stored; ``should_stop`` is polled between folders so
    a GUI can cancel; ``on_progress`` is called every few thousand files from the scanning thread.
    """
    roots = sorted(as_roots(paths), key=lambda r: r.max_depth is not None)  # full-depth roots first
    lookup = _lookup_of(vault)
    state = WalkState()
    result = ScanResult(roots=[str(r.path) for r in roots], stats=state.stats)
    started = time.perf_counter()
    next_report = PROGRESS_EVERY
    for cand in walk(roots, options, state, should_stop):
        result.found.extend(examine(cand, result, lookup))
        if on_progress is not None and state.stats.files >= next_report:
            next_report = state.stats.files + PROGRESS_EVERY
            on_progress(ScanProgress(state.stats.dirs, state.stats.files, len(result.found), str(cand.path.parent)))
    result.cancelled = bool(should_stop and should_stop())
    result.stats.seconds = time.perf_counter() - started
    result.errors = state.errors
    if on_progress is not None:
        on_progress(ScanProgress(state.stats.dirs, state.stats.files, len(result.found), ""))
    return result


def examine(cand: Candidate, result: ScanResult, lookup: DigestLookup | None) -> list[FoundKey]:
    """Run a candidate's detectors in order; the first that recognises the structure owns the file."""
    text = cand.data.decode("utf-8", errors="replace")
    doc = Document(cand.path.absolute(), text)
    result.stats.parsed += 1
    result.examined.add(str(doc.path))
    for det in cand.detectors:
        try:
            found = det.detect(doc)
        except Exception:  # a detector bug must cost one file, never the scan; the text may hold secrets
            log.warning("detector %s failed on %s", det.format, doc.path, exc_info=False)
            continue
        if found:
            for f in found:
                finish(f, lookup, cand.mode)
            return found
    return []


def finish(found: FoundKey, lookup: DigestLookup | None, mode: int | None = None) -> None:
    """Fill in the masked fingerprint, the digest and the vault match; register the secrets for scrubbing."""
    creds = found.credentials
    if creds is not None:
        redact.remember(creds.secret_values())
        if creds.api_key:
            found.fingerprint = mask_key(creds.api_key)
            if found.exchange_known:
                found.digest = key_digest(found.exchange, creds.api_key)
                if lookup is not None:
                    rec = lookup(found.digest)
                    found.in_vault = rec.id if rec is not None else None
    if mode is not None and os.name != "nt" and not found.protected and mode & (stat.S_IRGRP | stat.S_IROTH):
        found.readable_by_others = True
        found.advice = (
            f"Other users of this computer can read this file (mode {stat.S_IMODE(mode):o}): "
            f"chmod 600 it. {found.advice}"
        )
