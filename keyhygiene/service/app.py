"""``App``: the one application object of a process, for the window and the command line alike.

Created once with the vault injected (``App(vault)``, or ``App.open(paths)`` for the local vault: OS keychain and
SQLite). Holds the runtime (the one asyncio loop thread and the worker pool) and offers every use case as a method.
Methods are synchronous unless named ``*_async``: the window runs the blocking ones on the runtime's pool and the
coroutines on its loop (``ui/services.py``); the command line calls them directly.

The vault is the one injected object everything else reaches the data through: a team backend (issue 22) is
another object with the same surface, injected the same way. What the service uses of it today: the key
operations (``list_keys``, ``get_key``, ``add_key``, ``update_key``, ``remove_key``, ``share``, ``unshare``,
``credentials``, ``resolve_service``), ``secrets`` (keychain state), ``repo`` (inspections, settings, the policy),
``db`` (the rotation journal, until it is a store repository), ``catalog``, ``paths`` and ``close``. Narrowing
``repo``/``db`` to methods of the vault is the seam's next step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from keyhygiene.core.models import KeyProfile
from keyhygiene.service import exchange_info
from keyhygiene.service.history import HistoryUseCases
from keyhygiene.service.keys import KeyUseCases
from keyhygiene.service.reports import ReportUseCases
from keyhygiene.service.runtime import Runtime
from keyhygiene.service.scan import ScanUseCases
from keyhygiene.service.summary import SummaryUseCases
from keyhygiene.service.team_app import TeamUseCases
from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    import asyncio

    import keyring.backend

    from keyhygiene.core.audit import AuditResult, KeyAudit
    from keyhygiene.core.credentials import Credentials
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import Registry
    from keyhygiene.paths import AppPaths

log = logging.getLogger(__name__)


def open_local_vault(paths: AppPaths, backend: keyring.backend.KeyringBackend | None = None,
                     service_resolver: Callable[[str], str] | None = None) -> Vault:
    """The local vault (OS keychain + SQLite) of ``paths``, validating exchanges against ccxt's catalog (loaded
    lazily: the module itself does not import ccxt)."""
    from keyhygiene.exchanges import catalog

    return Vault(paths, backend=backend, service_resolver=service_resolver, catalog=catalog)


class App(KeyUseCases, HistoryUseCases, SummaryUseCases, ScanUseCases, ReportUseCases, TeamUseCases):
    """Every use case over one vault. Not thread-bound: each method may run on any thread, as the vault allows."""

    def __init__(self, vault: Vault, *, runtime: Runtime | None = None,
                 endpoints: Mapping[str, str] | None = None) -> None:
        self.vault = vault
        self.runtime = runtime if runtime is not None else Runtime()
        self.endpoints: dict[str, str] = dict(endpoints or {})

    @classmethod
    def open(cls, paths: AppPaths, *, backend: keyring.backend.KeyringBackend | None = None,
             service_resolver: Callable[[str], str] | None = None, endpoints: Mapping[str, str] | None = None,
             runtime: Runtime | None = None, offline_ok: bool = False, refresh: bool = True) -> App:
        """The vault backend of ``paths`` (``service/backend.py``: the team vault when one is connected, else the
        local one); with a keyring ``backend`` (the demo's in-memory keychain) always the local vault."""
        if backend is not None:
            vault = open_local_vault(paths, backend, service_resolver)
        else:
            from keyhygiene.service.backend import open_backend

            vault = open_backend(paths, service_resolver, offline_ok=offline_ok, refresh=refresh)
        return cls(vault, runtime=runtime, endpoints=endpoints)

    @property
    def is_team(self) -> bool:
        return self.vault.is_team

    @property
    def offline(self) -> Exception | None:
        """Why the team vault's server cannot be used now (its cached metadata is shown read-only); else None."""
        return self.vault.offline

    def cache_refreshed_at(self) -> datetime | None:
        """When the team vault's cache last matched its server (what the window says it shows); None for local."""
        return self.vault.refreshed_at() if self.vault.is_team else None  # type: ignore[attr-defined]

    def refresh_vault(self) -> Exception | None:
        """The team vault: read the teammates' changes into the cache (network: a worker's job). Returns why the
        server could not be used, None when it could; the local vault has nothing to refresh."""
        if not self.vault.is_team:
            return None
        from keyhygiene.service.team import refresh_team

        return refresh_team(self.vault)

    def close(self) -> None:
        """Stop the loop (cancelling what runs), drop queued work, close the vault."""
        self.runtime.close()
        self.vault.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- exchange facts that need ccxt (blocking: ccxt loads on first use) --------------------------------------
    exchange_ids = staticmethod(exchange_info.exchange_ids)
    exchange_names = staticmethod(exchange_info.exchange_names)
    required_credentials = staticmethod(exchange_info.required_credentials)
    needs_passphrase = staticmethod(exchange_info.needs_passphrase)

    def load_exchange_stack(self) -> None:
        """Get the exchange code ready now: import ccxt (in this process), or start the exchange process."""
        self.runtime.exchanges.warm()

    # ---- inspect ----------------------------------------------------------------------------------------------
    async def inspect_async(self, exchange: str, creds: Credentials, *,
                            declared_permissions: list[str] | None = None) -> KeyProfile:
        """Ask the exchange about a key that need not be stored (the add dialog's 'Check now')."""
        from keyhygiene.service.inspect import inspect_async

        return await inspect_async(exchange, creds, endpoints=self.endpoints,
                                   declared_permissions=declared_permissions, executor=self.runtime.exchanges)

    def inspect(self, exchange: str, creds: Credentials) -> KeyProfile:
        from keyhygiene.service.inspect import inspect

        return inspect(exchange, creds, endpoints=self.endpoints, runtime=self.runtime)

    # ---- audit ------------------------------------------------------------------------------------------------
    async def audit_async(self, key_ids: Sequence[str] | None = None, *, policy: Policy | None = None,
                          registry: Registry | None = None, on_result: Callable[[KeyAudit], None] | None = None,
                          cancel: asyncio.Event | None = None) -> AuditResult:
        """The audit, all keys or ``key_ids``: one code path for the command line, the window's audit and its
        "check again" (``service/audit.py``)."""
        from keyhygiene.service.audit import audit_async

        return await audit_async(self.vault, key_ids=key_ids, endpoints=self.endpoints or None, policy=policy,
                                 registry=registry, on_result=on_result, cancel=cancel,
                                 inspector=self.runtime.exchanges.inspect_many)

    def audit(self, key_ids: Sequence[str] | None = None, *, policy: Policy | None = None,
              registry: Registry | None = None) -> AuditResult:
        return self.runtime.run(self.audit_async(key_ids, policy=policy, registry=registry))
