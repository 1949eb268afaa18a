"""The audit: inspect every stored key concurrently, record what the exchanges said, and judge each key.

``audit_async`` runs on whichever asyncio loop owns the ccxt clients (the GUI's background loop);
``run_audit`` is the same thing for synchronous callers such as the CLI. Each key's result is recorded in the
inspection history and handed to ``on_result`` the moment its exchange answers, so one slow exchange delays only its
own keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.assessment import KeyAssessment, Summary, assess, summarize
from keyhygiene.core.models import Credentials, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import Registry, load_registry
from keyhygiene.core.report.rotations import last_rotation_day
from keyhygiene.core.rules import RuleContext, context_for
from keyhygiene.core.score import SCORE_FORMULA, overall_score
from keyhygiene.core.severity import SEVERITIES, Severity
from keyhygiene.core.timeutil import iso, utcnow

if TYPE_CHECKING:
    from keyhygiene.store.vault import Vault

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

Inspector = Callable[..., Awaitable[dict[str, KeyProfile]]]


@dataclass
class KeyAudit:
    """One key's verdict: its profile (as inspected now), findings, score and blast radius."""

    key: KeyRecord
    profile: KeyProfile
    checked_at: datetime | None  # when ``profile`` was obtained; None: never (secret missing, never inspected)
    findings: list[Finding]
    score: int
    blast_radius: str
    assessment: KeyAssessment

    @property
    def worst(self) -> Severity | None:
        if not self.findings:
            return None
        return max((Severity(f.severity) for f in self.findings), key=lambda s: s.rank)

    def reaches(self, severity: Severity | str) -> bool:
        w = self.worst
        return w is not None and w.at_least(severity)

    @classmethod
    def of(cls, a: KeyAssessment) -> KeyAudit:
        """The audit's view of the core's assessment (``core.assessment.assess``), the judgement every surface
        renders; a key never inspected shows as "Not checked"."""
        shown = a.profile or KeyProfile(exchange=a.key.exchange, key=a.key.fingerprint, status=Status.ERROR,
                                        message="Not checked.")
        return cls(key=a.key, profile=shown, checked_at=a.checked_at, findings=list(a.findings), score=a.score,
                   blast_radius=a.blast_radius, assessment=a)

    def to_json(self) -> dict[str, Any]:
        d = self.profile.to_json()
        d.update({
            "id": self.key.id,
            "label": self.key.label,
            "exchange": self.key.exchange,
            "purpose": self.key.purpose,
            "shared_with": self.key.shared_with,
            "checked_at": iso(self.checked_at),
            "findings": [f.to_json() for f in self.findings],
            "score": self.score,
            "blast_radius": self.blast_radius,
        })
        return d


@dataclass
class AuditResult:
    generated_at: datetime
    keys: list[KeyAudit]
    policy: Policy
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return overall_score([k.score for k in self.keys])

    def counts(self) -> dict[str, int]:
        c = dict.fromkeys(SEVERITIES, 0)
        for k in self.keys:
            for f in k.findings:
                c[f.severity] += 1
        return c

    def reaches(self, severity: Severity | str) -> bool:
        """True when any finding is at or above ``severity`` (``audit --fail-on``)."""
        return any(k.reaches(severity) for k in self.keys)

    def summary(self) -> Summary:
        return summarize(k.assessment for k in self.keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_at": iso(self.generated_at),
            "score": self.score,
            "score_formula": SCORE_FORMULA,
            "counts": self.counts(),
            "policy": self.policy.to_dict(),
            "cancelled": self.cancelled,
            "keys": [k.to_json() for k in self.keys],
        }


def _default_inspector() -> Inspector:
    from keyhygiene.exchanges.audit_runner import inspect_many

    return inspect_many


def _secret_missing(key: KeyRecord, why: str) -> KeyProfile:
    return KeyProfile(exchange=key.exchange, key=key.fingerprint, status=Status.ERROR, message=why)


def _load_credentials(vault: Vault, keys: Sequence[KeyRecord]) -> tuple[dict[str, Credentials], dict[str, str]]:
    """Read every secret (blocking keychain calls). KeychainError (locked, refused) propagates: exit code 3."""
    from keyhygiene.store.keychain import KeychainCorrupt

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
            problems[k.id] = "The secret of this key is missing from the keychain; add the key again."
            continue
        redact.remember(c.secret_values())
        creds[k.id] = c
    return creds, problems


async def audit_async(
    vault: Vault,
    *,
    endpoints: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    registry: Registry | None = None,
    on_result: Callable[[KeyAudit], None] | None = None,
    cancel: asyncio.Event | None = None,
    context: RuleContext | None = None,
    now: datetime | None = None,
    inspector: Inspector | None = None,
) -> AuditResult:
    """Inspect and judge every stored key. ``inspector`` defaults to ``exchanges.audit_runner.inspect_many``."""
    policy = policy or Policy.load(vault.repo)
    registry = registry or load_registry()
    keys = vault.list_keys()
    creds, problems = await asyncio.to_thread(_load_credentials, vault, keys)
    by_id = {k.id: k for k in keys}
    profiles: dict[str, KeyProfile] = {}
    checked: dict[str, datetime] = {}
    audits: dict[str, KeyAudit] = {}
    errors: list[str] = []
    # Plaintext copies recorded by a scan are the keys' own file exposures: RuleContext.copies_of reads them.
    base_context = context if context is not None else RuleContext()
    rotated = partial(last_rotation_day, vault.repo.db)  # a rotated key's old sharings were of the old key

    def context_of(key_id: str, profile: KeyProfile | None) -> RuleContext:
        return context_for(key_id, profile, vault.repo.inspection_history, base_context, last_rotation=rotated)

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
            vault.repo.record_inspection(key_id, profile, at)
        except Exception as exc:  # keep judging the other keys; report the storage problem at the end
            log.exception("could not record the inspection of %s", key_id)
            errors.append(f"{key_id}: the result could not be saved ({redact.scrub(exc)})")
        verdict(key_id, profile, at, context_of(key_id, profile))

    for kid, why in problems.items():
        # A check that could not start is a failed check, recorded like any other: the window, the report and
        # `status` read the stored results, and must say what this audit says. The key still works on the
        # exchange, so it is judged on its last successful check (``context_for``).
        on_profile(kid, _secret_missing(by_id[kid], why))

    items = [(k.id, k.exchange, creds[k.id]) for k in keys if k.id in creds]
    declared = {k.id: k.declared_permissions for k in keys if k.declared_permissions is not None}
    cancelled = False
    if items:
        await (inspector or _default_inspector())(
            items, endpoints=endpoints, declared=declared, on_result=on_profile, cancel=cancel
        )
    if cancel is not None and cancel.is_set():
        cancelled = True
    for k in keys:
        if k.id not in audits:
            # Cancelled before its exchange answered: judge it on its last recorded inspection, if any.
            last_at, last = vault.repo.latest_inspection(k.id) or (None, None)
            verdict(k.id, last, last_at, context_of(k.id, last))
    # The team vault sends inspections to its server off the event loop; wait for them and report any failure.
    flush = getattr(vault, "flush_publishing", None)
    if flush is not None:
        errors.extend(await asyncio.to_thread(flush))
    return AuditResult(generated_at=now or utcnow(), keys=[audits[k.id] for k in keys], policy=policy,
                       cancelled=cancelled, errors=errors)


def run_audit(
    vault: Vault,
    *,
    endpoints: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    registry: Registry | None = None,
    on_result: Callable[[KeyAudit], None] | None = None,
    cancel: asyncio.Event | None = None,
    context: RuleContext | None = None,
    now: datetime | None = None,
    inspector: Inspector | None = None,
) -> AuditResult:
    """``audit_async`` on a fresh event loop, for synchronous callers (CLI, worker threads)."""
    return asyncio.run(audit_async(
        vault, endpoints=endpoints, policy=policy, registry=registry, on_result=on_result, cancel=cancel,
        context=context, now=now, inspector=inspector,
    ))
