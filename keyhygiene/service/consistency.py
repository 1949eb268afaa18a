"""``doctor``'s use case (issue 18): do the keychain and the database agree, and repairing what does not.
The store does the work (``store/reconcile.py``); this is the command line's way to it."""

from __future__ import annotations

from typing import Any

from keyhygiene.paths import AppPaths
from keyhygiene.store.reconcile import reconcile, repair
from keyhygiene.store.vault import Vault, read_vault_ids

__all__ = ["has_held_a_vault", "open_vault", "reconcile", "repair"]


def has_held_a_vault(paths: AppPaths) -> bool:
    """A database, or the vault id a lost one left beside it."""
    return paths.database.exists() or bool(read_vault_ids(paths))


def open_vault(paths: AppPaths, **kwargs: Any) -> Vault:
    """The local vault of ``paths`` as the service opens it (DatabaseError when it cannot be used)."""
    from keyhygiene.service.app import open_local_vault

    return open_local_vault(paths, **kwargs)
