"""Helpers for GUI tests: how long to wait for background work, and storing simulator keys in a vault."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyhygiene.sim import SimKey
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.simkeys import creds_of

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

# Generous: the machine is shared; waits return as soon as their condition holds.
WAIT_MS = 20000


def save_shot(widget: Any, name: str) -> None:
    """Save ``widget``'s picture as ``<KEYHYGIENE_SHOTS>/<name>.png`` for a reviewer to look at; nothing when that
    variable is unset (a test run writes nothing outside its temporary folders)."""
    folder = os.environ.get("KEYHYGIENE_SHOTS")
    if not folder:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a screenshot is for a review, not part of what the test checks
    widget.grab().save(str(Path(folder) / f"{name}.png"))


def store(vault: Vault, key: SimKey, label: str, purpose: str = "trading",
          shared: list[tuple[str, date | None]] | None = None) -> str:
    """Put a simulator key into the vault as the user would have; returns its id."""
    rec = vault.add_key(key.exchange, label, creds_of(key), purpose=purpose,
                        shared_with=[ServiceRef(s, d) for s, d in (shared or [])])
    return rec.id


def make_services(vault: Vault, **kwargs: Any) -> Services:
    """The window's services over ``vault`` as the app builds them: one ``service.App`` (its own loop and pool)
    with the Qt adapters over them. Stop them with ``stop_services``; the vault stays open (its fixture closes it)."""
    from keyhygiene.service.app import App
    from keyhygiene.ui.async_runner import AsyncRunner
    from keyhygiene.ui.services import Services
    from keyhygiene.ui.task_pool import TaskPool

    app = App(vault)
    return Services(app, runner=AsyncRunner(runtime=app.runtime), pool=TaskPool(runtime=app.runtime), **kwargs)


def stop_services(s: Services) -> None:
    s.cancel_audit()
    s.runner.stop()
    s.pool.shutdown()
    s.app.runtime.shutdown_pool(wait=False)
    s.app.runtime.stop_exchanges()  # its exchange process, if a test started one: else one per test lives on
