"""The audit use case: inspect stored keys concurrently, record what the exchanges said, and judge each key.

One code path for every audit - all keys (``keyhygiene audit``, the window's audit) or some (the window's "check
again"): ``audit_async`` runs on the runtime's loop and hands the exchange work to an ``inspector`` - the
runtime's exchange executor (``service/exchange_executor.py``: in this process for the command line, in the
exchange process for the window); the keychain reads, the judging and the SQLite writes stay here. ``run_audit`` is
the same for synchronous callers. Each key's result is recorded in the inspection history and handed to
``on_result`` the moment its exchange answers, so one slow exchange delays only its own keys. A key whose secret
cannot be read (missing, or a corrupt keychain entry) is judged on its last successful check and reported with the
reason, never stops the others. A vault whose secrets are server calls (the team vault: ``read_credentials_ahead``)
has them read while the exchanges already answer, each key's check awaiting its own read, instead of all of them
first (where the inspector takes credential sources: in this process, not the exchange process).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.assessment import assess
from keyhygiene.core.audit import SCHEMA_VERSION, AuditResult, KeyAudit
from keyhygiene.core.models import Credentials, KeyProfile, KeyRecord, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import Registry, load_registry
from keyhygiene.core.rules import RuleContext, context_for
from keyhygiene.core.timeutil import utcnow
from keyhygiene.store.keychain import KeychainCorrupt, KeychainError
from keyhygiene.store.vault import Vault

__all__ = ["SCHEMA_VERSION", "AuditResult", "Inspector", "KeyAudit", "audit_async", "run_audit"]

log = logging.getLogger(__name__)

Inspector = Callable[..., Awaitable[dict[str, KeyProfile]]]

SECRET_MISSING = "The secret of this key is missing from the keychain; add the key again."


def _default_inspector() -> Inspector:
    from keyhygiene.exchanges.audit_runner import inspect_many

    return inspect_many


def _secret_missing(key: KeyRecord, why: str) -> KeyProfile:
    return KeyProfile(exchange=key.exchange, key=key.fingerprint, status=Status.ERROR, message=why)


def _load_credentials(vault: Vault, keys: Sequence[KeyRecord]) -> tuple[dict[str, Credentials], dict[str, str]]:
    """Read every secret (blocking keychain calls). KeychainError (locked, refused) propagates: exit code 3; a
    corrupt or missing entry is that key's problem only."""
    vault.secrets.require()
    creds: dict[str, Credentials] = {}
    problems: dict[str, str] = {}
    got = vault.credentials_many([k.id for k in keys])
    for k in keys:
        c = got.get(k.id)
        if isinstance(c, KeychainCorrupt):
            problems[k.id] = redact.scrub(str(c))
            continue
        if c is None:
            problems[k.id] = SECRET_MISSING
            continue
        redact.remember(c.secret_values())
        creds[k.id] = c
    return creds, problems


def _reading_order(keys: Sequence[KeyRecord]) -> list[KeyRecord]:
    """The order to read the keys' secrets in: the order their checks start in (``audit_runner.start_ranks``: first
    the keys whose exchange's schedule is the longest - BingX's first window, three requests in turn each - one key
    of each exchange in turn among keys as urgent; the keys that wait for a later rate-limit window last). A check
    waits for its own secret only, so the checks that bound the audit should not wait behind the others."""
    from keyhygiene.exchanges.audit_runner import start_ranks

    ranks = start_ranks([(k.id, k.exchange) for k in keys])
    return sorted(keys, key=lambda k: ranks[k.id])


def _credential_source(reads: Any, key: KeyRecord, on_profile: Callable[[str, KeyProfile], None],
                       unusable: list[KeychainError]) -> Callable[[], Awaitable[Credentials | None]]:
    """The key's secret as its check needs it, from the reads the vault started (``read_credentials_ahead``). A
    missing or unreadable secret is recorded as that key's failed check, as ``_load_credentials`` does; a vault
    that stopped answering stops the checks still waiting for a secret."""
    async def source() -> Credentials | None:
        try:
            c = await asyncio.wrap_future(reads.future(key.id))
        except KeychainError as exc:
            if not unusable:
                unusable.append(exc)
                reads.stop()
            return None
        if unusable:
            return None
        if isinstance(c, KeychainCorrupt):
            on_profile(key.id, _secret_missing(key, redact.scrub(str(c))))
            return None
        if c is None:
            on_profile(key.id, _secret_missing(key, SECRET_MISSING))
            return None
        redact.remember(c.secret_values())
        return c

    return source


async def audit_async(
    vault: Vault,
    *,
    key_ids: Sequence[str] | None = None,
    endpoints: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    registry: Registry | None = None,
    on_result: Callable[[KeyAudit], None] | None = None,
    cancel: asyncio.Event | None = None,
    context: RuleContext | None = None,
    now: datetime | None = None,
    inspector: Inspector | None = None,
) -> AuditResult:
    """Inspect and judge every stored key, or those of ``key_ids`` (ids no longer stored are left out).
    ``inspector`` defaults to ``exchanges.audit_runner.inspect_many``."""
    policy = policy or Policy.load(vault)
    registry = registry or load_registry()
    keys = vault.list_keys()
    if key_ids is not None:
        wanted = set(key_ids)
        keys = [k for k in keys if k.id in wanted]
    insp = inspector or _default_inspector()
    # A vault whose secrets are server calls (the team vault) reads them while the exchanges already answer.
    ahead = getattr(vault, "read_credentials_ahead", None)
    streamed = ahead is not None and getattr(insp, "accepts_credential_sources", False)
    if streamed:
        await asyncio.to_thread(vault.secrets.require)  # unusable vault: exit 3 before any exchange is asked
        creds, problems = {}, {}
    else:
        creds, problems = await asyncio.to_thread(_load_credentials, vault, keys)
    by_id = {k.id: k for k in keys}
    profiles: dict[str, KeyProfile] = {}
    checked: dict[str, datetime] = {}
    audits: dict[str, KeyAudit] = {}
    errors: list[str] = []
    # Plaintext copies recorded by a scan are the keys' own file exposures: RuleContext.copies_of reads them.
    base_context = context if context is not None else RuleContext()
    rotated = vault.last_rotation_day  # a rotated key's old sharings were of the old key

    def context_of(key_id: str, profile: KeyProfile | None) -> RuleContext:
        return context_for(key_id, profile, vault.inspection_history, base_context, last_rotation=rotated)

    def verdict(key_id: str, profile: KeyProfile | None, at: datetime | None,
                ctx: RuleContext) -> KeyAudit:
        a = KeyAudit.of(assess(by_id[key_id], profile, at, policy=policy, registry=registry, now=now or utcnow(),
                               context=ctx))
        audits[key_id] = a
        if on_result is not None:
            try:
                on_result(a)
            except Exception:  # a UI callback must not stop the audit of the other keys
                log.exception("audit on_result callback failed for %s", key_id)
        return a

    def on_profile(key_id: str, profile: KeyProfile) -> None:
        at = utcnow()
        profiles[key_id], checked[key_id] = profile, at
        try:
            vault.record_inspection(key_id, profile, at)
        except Exception as exc:  # keep judging the other keys; report the storage problem at the end
            log.exception("could not record the inspection of %s", key_id)
            errors.append(f"{key_id}: the result could not be saved ({redact.scrub(exc)})")
        verdict(key_id, profile, at, context_of(key_id, profile))

    for kid, why in problems.items():
        # A check that could not start is a failed check, recorded like any other: the window, the report and
        # `status` read the stored results, and must say what this audit says. The key still works on the
        # exchange, so it is judged on its last successful check (``context_for``).
        on_profile(kid, _secret_missing(by_id[kid], why))

    items: list[tuple[str, str, Any]] = [(k.id, k.exchange, creds[k.id]) for k in keys if k.id in creds]
    unusable: list[KeychainError] = []  # the vault itself failed mid-audit: exit 3 once the checks in flight end
    if streamed:
        order = _reading_order(keys)
        reads = ahead([k.id for k in order])
        items = [(k.id, k.exchange, _credential_source(reads, k, on_profile, unusable)) for k in order]
    declared = {k.id: k.declared_permissions for k in keys if k.declared_permissions is not None}
    cancelled = False
    try:
        if items:
            await insp(items, endpoints=endpoints, declared=declared, on_result=on_profile, cancel=cancel)
    finally:
        if streamed:
            reads.stop()
    if unusable:
        raise unusable[0]
    if cancel is not None and cancel.is_set():
        cancelled = True
    for k in keys:
        if k.id not in audits:
            # Cancelled before its exchange answered: judge it on its last recorded inspection, if any.
            last_at, last = vault.latest_inspection(k.id) or (None, None)
            verdict(k.id, last, last_at, context_of(k.id, last))
    # The team vault sends inspections to its server off the event loop; wait for them and report any failure.
    flush = getattr(vault, "flush_publishing", None)
    if flush is not None:
        errors.extend(await asyncio.to_thread(flush))
    return AuditResult(generated_at=now or utcnow(), keys=[audits[k.id] for k in keys], policy=policy,
                       cancelled=cancelled, errors=errors)


def run_audit(vault: Vault, **options: Any) -> AuditResult:
    """``audit_async`` (same keyword options) on a fresh event loop, for tools and tests; the app and the CLI run it
    on the runtime's loop (``App.audit``)."""
    return asyncio.run(audit_async(vault, **options))
