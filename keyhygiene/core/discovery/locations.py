"""Plaintext copies of stored keys, as recorded in the vault.

Convention (shared with the rules engine and the report): when a scan finds a stored key in a file, the key gets
an ``Exposure`` whose ``service`` is ``"file:" + absolute path`` (``model.file_service``), ``shared_at`` the day it
was first found and ``note`` the format. While that exposure is active (``revoked_at`` is None) the plaintext copy
is believed to be on disk. Clean-up, or a later ``scan --import`` that no longer finds the key in that file, ends
it (``revoked_at`` = that day). Such exposures are local files, not third-party services.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from keyhygiene.core.discovery.model import FoundKey, ScanResult, file_service, path_of_service
from keyhygiene.core.models import Exposure, KeyRecord
from keyhygiene.core.timeutil import utcnow


def _repo(vault_or_repo: object) -> Any:
    return getattr(vault_or_repo, "repo", vault_or_repo)


def plaintext_locations(vault_or_repo: object) -> dict[str, list[str]]:
    """``{key_id: [path, …]}`` for every stored key with an active plaintext copy on disk (paths sorted)."""
    out: dict[str, list[str]] = {}
    for rec in _repo(vault_or_repo).list_keys():
        paths = active_file_paths(rec)
        if paths:
            out[rec.id] = paths
    return out


def active_file_paths(rec: KeyRecord) -> list[str]:
    return sorted({p for e in rec.exposures if e.active and (p := path_of_service(e.service)) is not None})


def record_location(vault_or_repo: object, key_id: str, found: FoundKey, day: date | None = None) -> bool:
    """Add the file exposure unless an active one exists. True when something was written."""
    repo = _repo(vault_or_repo)
    rec = repo.get_key(key_id)
    if rec is None or found.path in active_file_paths(rec):
        return False
    exp = Exposure(service=file_service(found.path), shared_at=day or utcnow().date(),
                   note=f"plaintext copy found by scan ({found.format}: {', '.join(found.fields)})")
    with repo.db.transaction() as c:
        repo.insert_exposure(c, key_id, exp)
    return True


def end_location(vault_or_repo: object, key_id: str, path: str, day: date | None = None) -> bool:
    """End the active file exposure(s) of ``key_id`` for ``path``. True when one was ended."""
    repo = _repo(vault_or_repo)
    rec = repo.get_key(key_id)
    if rec is None:
        return False
    service = file_service(path)
    ended = False
    with repo.db.transaction() as c:
        for e in rec.exposures:
            if e.active and e.service == service and e.id is not None:
                repo.end_exposure(c, e.id, day or utcnow().date())
                ended = True
    return ended


def reconcile(vault_or_repo: object, result: ScanResult, day: date | None = None) -> list[tuple[str, str]]:
    """End file exposures that this scan disproved: the file was read and the key is no longer in it.

    A file that was deleted from inside the scanned folders counts as read. Files the scan did not read (outside
    its roots, skipped as too large) are left alone: not finding is not disproving.
    Returns the (key_id, path) pairs that were ended.
    """
    still_there: set[tuple[str, str]] = {(f.in_vault, f.path) for f in result.found if f.in_vault}
    ended: list[tuple[str, str]] = []
    for rec in _repo(vault_or_repo).list_keys():
        for path in active_file_paths(rec):
            read_now = path in result.examined or (not os.path.exists(path) and _under(path, result.roots))
            if read_now and (rec.id, path) not in still_there:
                if end_location(vault_or_repo, rec.id, path, day):
                    ended.append((rec.id, path))
    return ended


def record_all(vault_or_repo: object, found: Iterable[FoundKey], day: date | None = None) -> int:
    """Record the file of every finding already matched to a stored key (``in_vault``). Returns how many."""
    return sum(1 for f in found if f.in_vault and record_location(vault_or_repo, f.in_vault, f, day))


def _under(path: str, roots: Sequence[str]) -> bool:
    p = Path(path)
    return any(p == Path(r) or Path(r) in p.parents for r in roots)
