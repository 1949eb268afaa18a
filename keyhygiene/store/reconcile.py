"""Do the keychain and the database agree? What ``doctor`` reports and ``doctor --repair`` resolves (issue 18).

Three kinds of disagreement, each with the command that resolves it; nothing secret is ever part of a finding:
- ``unfinished_add``: a row whose add was interrupted (state ``adding``). With its secret in the keychain the add
  can be finished (adopt); without, the row is removed.
- ``missing_secret``: an active key whose keychain entry is gone: the row can only be removed (or the key added
  again after that).
- ``orphaned_secret``: a keychain entry in one of this data dir's namespaces (``vault-id``) that no row points
  to — a database that was lost, damaged or restored from an older backup. Adopt makes it a key again (its
  exchange and label travel with the entry), remove deletes it from the keychain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.timeutil import utcnow
from keyhygiene.paths import AppPaths
from keyhygiene.store.keychain import CURRENT, SLOTS, SecretStore
from keyhygiene.store.repository import ADDING

if TYPE_CHECKING:
    import keyring.backend

    from keyhygiene.store.vault import Vault

log = logging.getLogger(__name__)

UNFINISHED_ADD = "unfinished_add"
MISSING_SECRET = "missing_secret"
ORPHANED_SECRET = "orphaned_secret"


@dataclass
class Finding:
    kind: str
    key_id: str
    vault_id: str
    text: str
    resolve: str  # the command that resolves it
    actions: tuple[str, ...]  # what --repair may do: "adopt", "remove"
    exchange: str | None = None
    label: str | None = None
    key: str | None = None  # masked

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "key_id": self.key_id, "vault_id": self.vault_id, "exchange": self.exchange,
                "label": self.label, "key": self.key, "text": self.text, "resolve": self.resolve,
                "actions": list(self.actions)}


@dataclass
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    database_problem: str | None = None
    listable: bool = True  # False: the keychain cannot list its items, orphans of a lost database stay unseen

    @property
    def consistent(self) -> bool:
        return not self.findings and self.database_problem is None


REPAIR = "keyhygiene doctor --repair"


def reconcile(paths: AppPaths, vault: Vault | None, backend: keyring.backend.KeyringBackend | None = None
              ) -> Reconciliation:
    """Compare the keychain with the database. ``vault`` None: there is no usable database (missing or damaged),
    so every entry in this data dir's namespaces is orphaned."""
    from keyhygiene.store.vault import read_vault_ids

    out = Reconciliation()
    namespaces = read_vault_ids(paths)
    known: set[str] = set()
    current = None
    if vault is not None:
        current = vault.secrets.vault_id
        namespaces = [current, *[n for n in namespaces if n != current]]
        known = vault.repo.all_key_ids()
        for rec in vault.repo.unfinished_adds():
            has = vault.secrets.has(rec.id, CURRENT)
            out.findings.append(Finding(
                UNFINISHED_ADD, rec.id, current,
                f"adding {rec.exchange} key {rec.fingerprint} ({rec.label}) was interrupted; "
                + ("its secret is in the keychain" if has else "its secret never reached the keychain"),
                REPAIR, ("adopt", "remove") if has else ("remove",), rec.exchange, rec.label, rec.fingerprint))
        for rec in vault.repo.list_keys():
            if rec.state == "active" and not vault.secrets.has(rec.id, CURRENT):
                out.findings.append(Finding(
                    MISSING_SECRET, rec.id, current,
                    f"{rec.exchange} key {rec.fingerprint} ({rec.label}) has no secret in the keychain",
                    f"keyhygiene keys remove {rec.id}", ("remove",), rec.exchange, rec.label, rec.fingerprint))
    for ns in namespaces:
        store = SecretStore(ns, backend if backend is not None else (vault.secrets.backend if vault else None))
        ids = store.list_key_ids()
        if ids is None:
            out.listable = False
            break
        for key_id in sorted(ids - (known if ns == current else set())):
            out.findings.append(_orphan(store, key_id, ns == current))
    return out


def _orphan(store: SecretStore, key_id: str, same_namespace: bool) -> Finding:
    meta: dict[str, str] = {}
    masked = None
    try:
        meta = store.meta(key_id)
        creds = store.get(key_id, CURRENT)
        masked = mask_key(creds.api_key) if creds else None
    except Exception as exc:  # noqa: BLE001 - an unreadable entry is still an orphan to report
        log.info("orphan %s: entry unreadable (%s)", key_id, type(exc).__name__)
    where = "this vault" if same_namespace else f"vault {store.vault_id} of this data folder"
    what = f"{meta.get('exchange', 'unknown exchange')} key {masked or '(unreadable)'}"
    if meta.get("label"):
        what += f" ({meta['label']})"
    return Finding(ORPHANED_SECRET, key_id, store.vault_id,
                   f"the keychain holds {what} from {where}, but no key in the database points to it",
                   REPAIR, ("adopt", "remove") if masked else ("remove",),
                   meta.get("exchange"), meta.get("label"), masked)


def repair(vault: Vault, finding: Finding, action: str, exchange: str | None = None) -> str:
    """Carry out ``action`` ("adopt" or "remove") for ``finding``; returns what was done, in words."""
    if action not in finding.actions:
        raise ValueError(f"{action!r} is not possible for {finding.kind}")
    if finding.kind in (UNFINISHED_ADD, MISSING_SECRET):
        if action == "adopt":
            with vault.db.transaction() as c:
                vault.repo.update_key(c, finding.key_id, state="active")
            return f"finished adding {finding.key_id}"
        store = vault.secrets
        for slot in SLOTS:
            store.delete(finding.key_id, slot)
        with vault.db.transaction() as c:
            vault.repo.delete_key(c, finding.key_id)
        return f"removed {finding.key_id}"
    # orphaned secret
    store = SecretStore(finding.vault_id, vault.secrets.backend)
    if action == "remove":
        for slot in SLOTS:
            store.delete(finding.key_id, slot)
        return f"removed the keychain entry of {finding.key_id}"
    return _adopt(vault, store, finding, exchange)


def _adopt(vault: Vault, store: SecretStore, finding: Finding, exchange: str | None) -> str:
    from keyhygiene.core.models import KeyRecord
    from keyhygiene.store.repository import new_key_id
    from keyhygiene.store.vault import ValidationError, validate_metadata

    creds = store.get(finding.key_id, CURRENT)
    if creds is None:
        raise ValidationError("key_id", f"The keychain entry of {finding.key_id} is gone.")
    meta = store.meta(finding.key_id)
    ex_name = exchange or meta.get("exchange")
    if not ex_name:
        raise ValidationError("exchange", f"Say which exchange {finding.key_id} belongs to.")
    label = meta.get("label") or f"Recovered {mask_key(creds.api_key)}"
    ex, lab = validate_metadata(ex_name, label, "other", vault.catalog)
    digest = key_digest(ex, creds.api_key)
    existing = vault.repo.find_by_digest(digest)
    if existing is not None and existing.state != ADDING:
        # The same key is stored under another id already: the orphan is a stray copy.
        for slot in SLOTS:
            store.delete(finding.key_id, slot)
        return f"{finding.key_id} is the same key as {existing.id}; removed the stray copy"
    same_ns = store.vault_id == vault.secrets.vault_id
    key_id = finding.key_id if same_ns and vault.repo.get_key(finding.key_id) is None else new_key_id()
    now = utcnow()
    rec = KeyRecord(id=key_id, exchange=ex, label=lab, purpose="other", fingerprint=mask_key(creds.api_key),
                    key_sha256=digest, created_at=None, added_at=now, updated_at=now, state=ADDING)
    with vault.db.transaction() as c:
        vault.repo.insert_key(c, rec)
    if not same_ns or key_id != finding.key_id:
        vault.secrets.put(key_id, creds, CURRENT, meta={"exchange": ex, "label": lab})
    with vault.db.transaction() as c:
        vault.repo.update_key(c, key_id, state="active")
    if not same_ns or key_id != finding.key_id:
        for slot in SLOTS:
            store.delete(finding.key_id, slot)
    return f"adopted {finding.key_id} as {key_id} ({ex}, {lab})"
