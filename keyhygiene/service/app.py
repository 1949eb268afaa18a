"""``App``: the one application object of a process, for the window and the command line alike.

Created once with the vault injected (``App(vault)``, or ``App.open(paths)`` for the local vault: OS keychain and
SQLite). Holds the runtime (the one asyncio loop thread and the worker pool) and offers every use case as a method.
Methods are synchronous unless named ``*_async``: the window runs the blocking ones on the runtime's pool and the
coroutines on its loop (``ui/services.py``); the command line calls them directly.

The vault is one object with a small surface (``list_keys``, ``get_key``, ``add_key``, ``update_key``,
``remove_key``, ``share``, ``unshare``, ``credentials``, ``secrets``, ``repo``, ``close``): a team backend
(issue 22) is another object with the same surface, injected the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, KeyProfile, KeyRecord
from keyhygiene.core.timeutil import utcnow
from keyhygiene.core.validation import ServiceRef
from keyhygiene.service import exchange_info
from keyhygiene.service.runtime import Runtime
from keyhygiene.store.keychain import KeychainStatus
from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    import asyncio

    import keyring.backend

    from keyhygiene.core.audit import AuditResult, KeyAudit
    from keyhygiene.core.discovery import CleanupPlan, CleanupResult, FoundKey, ImportOutcome, ScanResult, WalkOptions
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import Registry
    from keyhygiene.core.report.model import Report
    from keyhygiene.paths import AppPaths

log = logging.getLogger(__name__)


def open_local_vault(paths: AppPaths, backend: keyring.backend.KeyringBackend | None = None,
                     service_resolver: Callable[[str], str] | None = None) -> Vault:
    """The local vault (OS keychain + SQLite) of ``paths``, validating exchanges against ccxt's catalog (loaded
    lazily: the module itself does not import ccxt)."""
    from keyhygiene.exchanges import catalog

    return Vault(paths, backend=backend, service_resolver=service_resolver, catalog=catalog)


class App:
    """Every use case over one vault. Not thread-bound: each method may run on any thread, as the vault allows."""

    def __init__(self, vault: Vault, *, runtime: Runtime | None = None,
                 endpoints: Mapping[str, str] | None = None) -> None:
        self.vault = vault
        self.runtime = runtime if runtime is not None else Runtime()
        self.endpoints: dict[str, str] = dict(endpoints or {})

    @classmethod
    def open(cls, paths: AppPaths, *, backend: keyring.backend.KeyringBackend | None = None,
             service_resolver: Callable[[str], str] | None = None, endpoints: Mapping[str, str] | None = None,
             runtime: Runtime | None = None) -> App:
        return cls(open_local_vault(paths, backend, service_resolver), runtime=runtime, endpoints=endpoints)

    def close(self) -> None:
        """Stop the loop (cancelling what runs), drop queued work, close the vault."""
        self.runtime.close()
        self.vault.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def paths(self) -> AppPaths:
        return self.vault.paths

    @staticmethod
    def _discovery() -> Any:
        """``core.discovery``, told where ccxt's exchange ids come from: it recognises exchange names against them,
        and only the exchange layer may load ccxt. Imported on first use: it is not needed for the first frame."""
        from keyhygiene.core import discovery
        from keyhygiene.core.discovery import exchange_names
        from keyhygiene.exchanges import catalog

        exchange_names.use_exchange_ids(catalog.all_exchange_ids)
        return discovery

    # ---- exchange facts that need ccxt (blocking: ccxt loads on first use) --------------------------------------
    exchange_ids = staticmethod(exchange_info.exchange_ids)
    required_credentials = staticmethod(exchange_info.required_credentials)
    needs_passphrase = staticmethod(exchange_info.needs_passphrase)

    @staticmethod
    def load_exchange_stack() -> None:
        """Import ccxt and the HTTP stack now (see ``exchanges/warmup.py`` for why the window wants that)."""
        from keyhygiene.exchanges.warmup import load_exchange_stack

        load_exchange_stack()

    # ---- keys -------------------------------------------------------------------------------------------------
    def validate_metadata(self, exchange: str, label: str, purpose: str) -> tuple[str, str]:
        from keyhygiene.core.validation import validate_metadata

        return validate_metadata(exchange, label, purpose, self.vault.catalog)

    def validate_credentials(self, exchange: str, creds: Credentials) -> None:
        from keyhygiene.core.validation import validate_credentials

        validate_credentials(exchange, creds, self.vault.catalog)

    def validated_exchange(self, exchange: str) -> str:
        from keyhygiene.core.validation import validated_exchange

        return validated_exchange(exchange, self.vault.catalog)

    def list_keys(self) -> list[KeyRecord]:
        return self.vault.list_keys()

    def get_key(self, key_id: str) -> KeyRecord:
        """NotFound if there is no such key."""
        return self.vault.get_key(key_id)

    def find_key(self, key_id: str) -> KeyRecord | None:
        return self.vault.repo.get_key(key_id)

    def add_key(self, exchange: str, label: str, creds: Credentials, *, purpose: str = "other",
                shared_with: Sequence[ServiceRef] = (), created_at: datetime | None = None,
                declared_permissions: list[str] | None = None, note: str | None = None) -> KeyRecord:
        redact.remember(creds.secret_values())
        return self.vault.add_key(exchange, label, creds, purpose=purpose, shared_with=shared_with,
                                  created_at=created_at, declared_permissions=declared_permissions, note=note)

    def update_key(self, key_id: str, **changes: Any) -> KeyRecord:
        return self.vault.update_key(key_id, **changes)

    def remove_key(self, key_id: str) -> KeyRecord:
        return self.vault.remove_key(key_id)

    def share(self, key_id: str, ref: ServiceRef, note: str | None = None) -> KeyRecord:
        return self.vault.share(key_id, ref.validated(), note=note)

    def unshare(self, key_id: str, ref: ServiceRef) -> KeyRecord:
        return self.vault.unshare(key_id, ref)

    def resolve_service(self, name: str) -> str:
        """A service as the user typed it ("3 Commas") -> the registry's id ("3commas")."""
        return self.vault.resolve_service(name)

    def set_service_resolver(self, resolve: Callable[[str], str]) -> None:
        self.vault.resolve_service = resolve

    def api_key(self, key_id: str) -> str:
        """The public API key (not the secret), for Copy and Reveal. Blocking: reads the keychain."""
        creds = self.vault.credentials(key_id)
        if creds is None:
            raise LookupError("This key's secret is missing from the keychain.")
        return creds.api_key

    def keychain_backend_name(self) -> str:
        from keyhygiene.store.keychain import backend_name

        return backend_name(self.vault.secrets.backend)

    # ---- keychain ---------------------------------------------------------------------------------------------
    def keychain_status(self) -> KeychainStatus:
        """Probe the keychain (blocking: may wait on an unlock prompt)."""
        return self.vault.secrets.status()

    def require_keychain(self) -> KeychainStatus:
        """KeychainError (exit 3 on the command line) unless the keychain can be used."""
        return self.vault.secrets.require()

    # ---- what the vault remembers -----------------------------------------------------------------------------
    def latest_inspection(self, key_id: str) -> tuple[datetime, KeyProfile] | None:
        return self.vault.repo.latest_inspection(key_id)

    def latest_inspections(self) -> dict[str, tuple[datetime, KeyProfile]]:
        return self.vault.repo.latest_inspections()

    def inspection_history(self, key_id: str, limit: int = 50) -> list[tuple[datetime, KeyProfile]]:
        return self.vault.repo.inspection_history(key_id, limit)

    def record_profile(self, key_id: str, profile: KeyProfile, at: datetime | None = None) -> None:
        """Keep an inspection made before the key was stored (the add dialog's 'Check now')."""
        self.vault.repo.record_inspection(key_id, profile, at or utcnow())

    def rotation_history(self, key_id: str) -> list[Any]:
        """Rotations of a key, newest first (``core.rotation.RotationRecord``)."""
        from keyhygiene.core.rotation import history

        return list(history(self.vault.db, key_id))

    def open_rotations(self) -> list[tuple[str, str]]:
        """Rotations saved half-way: (key id, title of the step waiting)."""
        from keyhygiene.core.rotation.journal import Journal
        from keyhygiene.core.rotation.states import TITLES

        journal = Journal(self.vault.db, hook=None)
        return [(r.key_id, TITLES.get(r.state, str(r.state))) for r in journal.open_rotations()]

    def get_setting(self, name: str, default: Any = None) -> Any:
        return self.vault.repo.get_setting(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        self.vault.repo.set_setting(name, value)

    def load_policy(self) -> Policy:
        from keyhygiene.core.policy import Policy

        return Policy.load(self.vault.repo)

    def save_policy(self, policy: Policy) -> None:
        policy.save(self.vault.repo)

    # ---- inspect ----------------------------------------------------------------------------------------------
    async def inspect_async(self, exchange: str, creds: Credentials, *,
                            declared_permissions: list[str] | None = None) -> KeyProfile:
        """Ask the exchange about a key that need not be stored (the add dialog's 'Check now')."""
        from keyhygiene.service.inspect import inspect_async

        return await inspect_async(exchange, creds, endpoints=self.endpoints,
                                   declared_permissions=declared_permissions)

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
                                 registry=registry, on_result=on_result, cancel=cancel)

    def audit(self, key_ids: Sequence[str] | None = None, *, policy: Policy | None = None,
              registry: Registry | None = None) -> AuditResult:
        return self.runtime.run(self.audit_async(key_ids, policy=policy, registry=registry))

    # ---- scan / import / clean ----------------------------------------------------------------------------------
    def scan(self, roots: Sequence[Path | str] | None, *, options: WalkOptions | None = None,
             **kwargs: Any) -> ScanResult:
        """Look for plaintext keys under ``roots`` (None: the usual places), never inside this vault's own data
        folder; ``kwargs`` go to ``discovery.scan`` (``on_progress``, ``should_stop``)."""
        discovery = self._discovery()
        options = options or discovery.WalkOptions()
        options.exclude = [*options.exclude, self.paths.data_dir]
        return discovery.scan(roots, vault=self.vault, options=options, **kwargs)

    def import_found(self, found: Iterable[FoundKey], day: date | None = None) -> list[ImportOutcome]:
        """Store found keys in the keychain (each all-or-nothing) and record the files they were found in."""
        return self._discovery().import_found(self.vault, found, day)

    def reconcile(self, result: ScanResult) -> list[tuple[str, str]]:
        """Files a stored key was recorded in that the scan no longer finds it in: (key id, file)."""
        return self._discovery().reconcile(self.vault, result)

    def plan_cleanup(self, path: str) -> CleanupPlan:
        return self._discovery().plan_cleanup(path, vault=self.vault)

    def clean_file(self, plan: CleanupPlan, confirm: Callable[[CleanupPlan], bool]) -> CleanupResult:
        """Back the file up into the vault's backups folder, then remove the plaintext key from it."""
        return self._discovery().clean_file(plan, self.paths.backups_dir, confirm=confirm, vault=self.vault)

    # ---- reports ----------------------------------------------------------------------------------------------
    def build_report(self, *, policy: Policy | None = None, registry: Registry | None = None,
                     refreshed: bool = False) -> Report:
        """The report model from what the vault records (no exchange call: ``audit`` first to refresh)."""
        from keyhygiene.core.report import build_report
        from keyhygiene.core.report.engine import AuditEngine

        engine = AuditEngine(self.vault.repo, policy=policy, registry=registry)
        return build_report(self.vault, engine=engine, refreshed=refreshed)

