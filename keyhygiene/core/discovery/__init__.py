"""Discovery: find exchange keys lying in plaintext on this computer (DESIGN.md §7).

Structure first, names second: the walker only opens files whose *name* a detector wants (``config*.json``,
``.env*``, ``config.js``, ``conf/connectors/*.yml``…), and a detector only reports a key when the file has its
tool's structure (``exchange.key`` + ``exchange.secret`` in freqtrade, ``exchanges.<id>.api-key`` in OctoBot…).

Public API:
  scan(paths, vault=…) -> ScanResult            read-only; ``ScanResult.found`` is a list of FoundKey
  import_found(vault, found) -> [ImportOutcome]   store keys in the keychain, record the files (``file:`` exposures)
  plaintext_locations(vault_or_repo)              {key_id: [path, …]} for the "plaintext copy on disk" rule
  reconcile(vault, result)                        end file exposures that a scan disproved
  plan_cleanup(path, vault=…) / clean_file(plan, backups_dir, confirm=…)
"""

from keyhygiene.core.discovery.cleanup import CleanupError, CleanupPlan, CleanupResult, clean_file, plan_cleanup
from keyhygiene.core.discovery.importer import ImportOutcome, import_found
from keyhygiene.core.discovery.locations import plaintext_locations, reconcile, record_all
from keyhygiene.core.discovery.model import (
    FILE_SERVICE_PREFIX,
    FoundKey,
    ScanResult,
    ScanStats,
    file_service,
    is_file_service,
    path_of_service,
)
from keyhygiene.core.discovery.roots import default_roots
from keyhygiene.core.discovery.scanner import ScanProgress, scan
from keyhygiene.core.discovery.walker import Root, WalkOptions

__all__ = [
    "FILE_SERVICE_PREFIX", "CleanupError", "CleanupPlan", "CleanupResult", "FoundKey", "ImportOutcome", "Root",
    "ScanProgress", "ScanResult", "ScanStats", "WalkOptions", "clean_file", "default_roots", "file_service",
    "import_found", "is_file_service", "path_of_service", "plaintext_locations", "plan_cleanup", "reconcile",
    "record_all", "scan",
]
