"""Discovery use cases: scan folders for plaintext keys, import what was found, clean a file up. Blocking (file
system, keychain): the window runs them on its pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    from keyhygiene.core.discovery import CleanupPlan, CleanupResult, FoundKey, ImportOutcome, ScanResult, WalkOptions
    from keyhygiene.paths import AppPaths


class ScanUseCases:
    vault: Vault

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
