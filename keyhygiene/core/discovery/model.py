"""What a scan finds and reports. Secrets ride along in memory (for ``--import``) but never reach ``to_json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from keyhygiene.core.models import Credentials

# A key found in a file is recorded on the key as an exposure whose service is "file:" + the absolute path
# (the KeyRecord.exposures convention in core/models.py). The rules engine reads these to raise
# "plaintext copy on disk"; see keyhygiene.core.discovery.locations.
FILE_SERVICE_PREFIX = "file:"

KIND_EXCHANGE_KEY = "exchange-key"
KIND_SERVICE_TOKEN = "service-token"  # e.g. a Cryptohopper login token: controls a bot that holds exchange keys


def file_service(path: str | Path) -> str:
    return FILE_SERVICE_PREFIX + str(path)


def is_file_service(service: str) -> bool:
    return service.startswith(FILE_SERVICE_PREFIX)


def path_of_service(service: str) -> str | None:
    return service[len(FILE_SERVICE_PREFIX):] if is_file_service(service) else None


@dataclass
class FoundKey:
    """One credential found in one file. ``fields`` are names (``exchange.secret``, ``BINANCE_API_KEY``), never
    values."""

    path: str
    format: str  # detector id: freqtrade, octobot, ccxt-keys, json-keys, dotenv, gunbot, cryptohopper, hummingbot
    tool: str  # human name of the tool that reads the file: "freqtrade", "OctoBot", …
    exchange: str  # ccxt id when ``exchange_known``, else the name as the file spells it (lowercased)
    exchange_known: bool
    fields: list[str]
    location: str  # where in the file: "exchange", "exchanges.binance", "BINANCE_*", "line 3"
    advice: str
    kind: str = KIND_EXCHANGE_KEY
    protected: bool = False  # encrypted with something only the user knows (Hummingbot's password)
    protection: str | None = None  # how it is stored when not plain: "hummingbot-password", "octobot-published-key"
    fingerprint: str | None = None  # masked API key (mask_key), None when it cannot be read
    in_vault: str | None = None  # id of the stored key with the same digest
    cleanable: bool = False
    readable_by_others: bool = False  # the file's mode lets other local users read it
    credentials: Credentials | None = field(default=None, repr=False, compare=False)
    digest: str | None = field(default=None, repr=False)
    # JSON path (or env var name) of every value that holds key material, for the clean-up.
    secret_paths: list[tuple[str, ...]] = field(default_factory=list, repr=False)

    @property
    def importable(self) -> bool:
        return (
            self.kind == KIND_EXCHANGE_KEY
            and self.exchange_known
            and self.credentials is not None
            and bool(self.credentials.api_key)
            and bool(self.credentials.secret)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "format": self.format,
            "tool": self.tool,
            "kind": self.kind,
            "exchange": self.exchange,
            "exchange_known": self.exchange_known,
            "fields": list(self.fields),
            "location": self.location,
            "key": self.fingerprint,
            "in_vault": self.in_vault,
            "protected": self.protected,
            "protection": self.protection,
            "importable": self.importable,
            "cleanable": self.cleanable,
            "readable_by_others": self.readable_by_others,
            "advice": self.advice,
        }


@dataclass
class ScanStats:
    dirs: int = 0
    files: int = 0
    candidates: int = 0  # files whose name made them worth opening
    parsed: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_dirs: int = 0  # virtualenvs, node_modules, .git, caches
    unreadable: int = 0
    symlink_loops: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "dirs": self.dirs,
            "files": self.files,
            "candidates": self.candidates,
            "parsed": self.parsed,
            "skipped_binary": self.skipped_binary,
            "skipped_large": self.skipped_large,
            "skipped_dirs": self.skipped_dirs,
            "unreadable": self.unreadable,
            "symlink_loops": self.symlink_loops,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ScanResult:
    roots: list[str]
    found: list[FoundKey] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    errors: list[str] = field(default_factory=list)  # "cannot read <dir>: permission denied" (first few)
    examined: set[str] = field(default_factory=set)  # every candidate file that was opened and parsed
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "roots": list(self.roots),
            "found": [f.to_json() for f in self.found],
            "stats": self.stats.to_json(),
            "errors": list(self.errors),
            "cancelled": self.cancelled,
        }


class Document:
    """A candidate file's text, parsed at most once whichever detectors look at it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    @property
    def name(self) -> str:
        return self.path.name.lower()

    @property
    def parent(self) -> str:
        return self.path.parent.name.lower()

    @cached_property
    def data(self) -> Any:
        """The file as JSON (strict first, then tolerant JSON5 / JS object literal), or None."""
        from keyhygiene.core.discovery.jsonish import loads_tolerant

        return loads_tolerant(self.text)

    @cached_property
    def strict_json(self) -> Any:
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None
