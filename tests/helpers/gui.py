"""Helpers for GUI tests: how long to wait for background work, and storing simulator keys in a vault."""

from __future__ import annotations

from datetime import date

from keyhygiene.sim import SimKey
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.simkeys import creds_of

# Generous: the machine is shared; waits return as soon as their condition holds.
WAIT_MS = 20000


def store(vault: Vault, key: SimKey, label: str, purpose: str = "trading",
          shared: list[tuple[str, date | None]] | None = None) -> str:
    """Put a simulator key into the vault as the user would have; returns its id."""
    rec = vault.add_key(key.exchange, label, creds_of(key), purpose=purpose,
                        shared_with=[ServiceRef(s, d) for s, d in (shared or [])])
    return rec.id
