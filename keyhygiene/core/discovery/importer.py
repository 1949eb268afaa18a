"""``scan --import``: store each found key in the keychain and record the file it was found in.

A key already in the vault is not stored again; the file is recorded as one more place that key lives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.discovery.confine import DEMO_REFUSAL, may_write
from keyhygiene.core.discovery.locations import record_location
from keyhygiene.core.discovery.model import KIND_EXCHANGE_KEY, FoundKey
from keyhygiene.core.masking import key_digest
from keyhygiene.core.models import Purpose
from keyhygiene.core.timeutil import utcnow

log = logging.getLogger(__name__)

IMPORTED = "imported"
RECORDED = "recorded"  # already stored: the file was added as a place the key lives
UNCHANGED = "unchanged"  # already stored and the file already recorded
SKIPPED = "skipped"
_LABEL_MAX = 200
_NAME_MAX = 60  # a bot's folder name, so the exchange stays in view


@dataclass
class ImportOutcome:
    found: FoundKey
    action: str
    key_id: str | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"file": self.found.path, "format": self.found.format, "exchange": self.found.exchange,
                "key": self.found.fingerprint, "action": self.action, "key_id": self.key_id,
                "message": self.message}


# Folders that say where a tool keeps its files, not which bot it is: skipped when naming the bot.
_GENERIC_FOLDERS = frozenset({
    "user_data", "user", "config", "configs", "conf", "connectors", "data", "settings", "credentials", "keys",
    "secrets", "env", "src", "app", "bot", "bots", "home", "users", "root", "opt", "srv", "tmp", "var", "etc",
})


def bot_name(found: FoundKey, home: Path | None = None) -> str:
    """The folder that names the bot (``~/bots/grid-bot/.env`` -> ``grid-bot``), else the tool's name."""
    home = home if home is not None else Path.home()
    for folder in Path(found.path).parents:
        if folder == home or folder.parent == folder:
            break
        name = folder.name.lstrip(".")
        if name and name.lower() not in _GENERIC_FOLDERS:
            return name if len(name) <= _NAME_MAX else name[: _NAME_MAX - 1] + "\u2026"
    return f"{found.tool} file" if found.tool.startswith(".") else found.tool


def label_for(found: FoundKey, home: Path | None = None) -> str:
    """``grid-bot on Binance``, ``mybot (freqtrade) on KuCoin``: what a person calls the key. The file's path
    is kept in the key's note and as the place it lives, not in the label, where it pushed everything aside."""
    from keyhygiene.core.exchange_facts import display_name

    name = bot_name(found, home)
    tool = found.tool
    if not tool.startswith(".") and tool.lower() != name.lower() and not name.startswith(tool):
        name = f"{name} ({tool})"
    label = f"{name} on {display_name(found.exchange)}"
    return label if len(label) <= _LABEL_MAX else label[: _LABEL_MAX - 1] + "\u2026"


def import_found(vault: Any, found: Iterable[FoundKey], day: date | None = None) -> list[ImportOutcome]:
    """Store what can be stored; never raises for one bad finding (its outcome says why it was skipped)."""
    from keyhygiene.core.validation import ValidationError

    today = day or utcnow().date()
    outcomes: list[ImportOutcome] = []
    for f in found:
        reason = "" if may_write(f.path, vault) else DEMO_REFUSAL
        reason = reason or _not_importable(f)
        if reason:
            outcomes.append(ImportOutcome(f, SKIPPED, f.in_vault, reason))
            continue
        assert f.credentials is not None
        digest = f.digest or key_digest(f.exchange, f.credentials.api_key)
        existing = vault.repo.find_by_digest(digest)
        if existing is not None:
            f.in_vault = existing.id
            wrote = record_location(vault, existing.id, f, today)
            outcomes.append(ImportOutcome(
                f, RECORDED if wrote else UNCHANGED, existing.id,
                f"already stored as {existing.id}" + ("; file recorded as a place it lives" if wrote else ""),
            ))
            continue
        try:
            rec = vault.add_key(f.exchange, label_for(f), f.credentials, purpose=Purpose.BOT.value,
                                note=f"imported by scan from {f.path}")
        except ValidationError as exc:
            outcomes.append(ImportOutcome(f, SKIPPED, None, redact.scrub(str(exc))))
            continue
        f.in_vault = rec.id
        record_location(vault, rec.id, f, today)
        log.info("scan imported key %s (%s %s) from %s", rec.id, f.exchange, f.fingerprint, f.path)
        outcomes.append(ImportOutcome(f, IMPORTED, rec.id, f"stored as {rec.id}"))
    return outcomes


def _not_importable(f: FoundKey) -> str:
    if f.protected:
        return "protected by the tool's own encryption: add it by hand (keyhygiene keys add) to audit it"
    if f.kind != KIND_EXCHANGE_KEY:
        return f"a {f.tool} token, not an exchange key: the vault stores exchange keys only"
    if not f.exchange_known:
        return f"{f.exchange!r} is not an exchange KeyHygiene knows (ccxt id)"
    if f.credentials is None:
        return "the values could not be read"
    if not f.credentials.api_key:
        return "the file holds a secret without its API key: add the key by hand (keyhygiene keys add)"
    if not f.credentials.secret:
        return "the file holds an API key without its secret"
    return ""
