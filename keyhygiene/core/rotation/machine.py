"""The rotation state machine: one key's rotation, step by step, crash-safe. Plain Python; the wizard and the
``rotate`` command only call these methods and render what they return.

Invariants, and how the sequence keeps them:

* Until the end a working credential for the account is in the keychain: the old key stays in slot ``current``
  until the exchange rejects it; by then the tested new key has long been in slot ``pending``; ``pending`` is
  removed only after ``current`` holds the new key and the key entry says so.
* The old secret is deleted only after the exchange rejected the old key: the only write to ``current`` is
  ``promote``, which runs in step FINISH, reachable only through a VERIFY that saw the rejection.
* Every step is journalled before and after its side effect (journal.py) and is safe to run twice, so a crash, a
  kill or a quit anywhere resumes where it stopped.

Exchange calls are injected (``ExchangeOps``) so the whole machine is unit-tested with fakes; ``exchange_ops``
builds the real ones on ``keyhygiene.exchanges``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from keyhygiene.core import redact
from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import AUTH_REJECTIONS, Credentials, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.rotation.assessment import (
    Consumer,
    DeadVerdict,
    NewKeyReport,
    ServiceInfo,
    account_of,
    consumers_of,
    dead_verdict,
    ips_to_whitelist,
    judge,
    suggest_permissions,
)
from keyhygiene.core.rotation.journal import Journal, JournalHook, Rotation, env_crash_hook
from keyhygiene.core.rotation.states import BACK, CANCELLABLE, TERMINAL, Action, Phase, Step, Verdict
from keyhygiene.core.timeutil import iso, utcnow
from keyhygiene.core.validation import ValidationError, validate_credentials
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.vault import Vault

log = logging.getLogger(__name__)


class RotationError(Exception):
    """The requested move is not possible now; the message says why and what to do. Never holds a secret."""


class RevokeOutcome(Protocol):
    """What ``keyhygiene.exchanges.revoke.RevokeResult`` offers (read-only)."""

    @property
    def supported(self) -> bool: ...

    @property
    def ok(self) -> bool: ...

    @property
    def message(self) -> str: ...


InspectFn = Callable[[str, Credentials, "list[str] | None"], Awaitable[KeyProfile]]
RevokeFn = Callable[[str, Credentials], Awaitable[RevokeOutcome]]
Assessor = Callable[[KeyRecord, KeyProfile], "list[Finding]"]


@dataclass
class ExchangeOps:
    """What the machine needs from the exchange layer. Real ones: ``exchange_ops(endpoints)``."""

    inspect: InspectFn
    revoke: RevokeFn
    can_revoke: Callable[[str], bool]
    key_page: Callable[[str], str | None]
    display_name: Callable[[str], str] = str.capitalize


def exchange_ops(endpoints: Mapping[str, str] | None = None) -> ExchangeOps:
    """The real exchange calls (ccxt through keyhygiene.exchanges), optionally pointed at a simulator."""
    from keyhygiene.exchanges.catalog import display_name
    from keyhygiene.exchanges.key_pages import key_page
    from keyhygiene.exchanges.revoke import supports_api_revoke

    eps = dict(endpoints or {})

    async def inspect(exchange: str, creds: Credentials, declared: list[str] | None) -> KeyProfile:
        from keyhygiene.exchanges.inspect import inspect_key

        return await inspect_key(exchange, creds, endpoints=eps, declared_permissions=declared)

    async def revoke(exchange: str, creds: Credentials) -> RevokeOutcome:
        from keyhygiene.exchanges.revoke import revoke_key

        return await revoke_key(exchange, creds, endpoints=eps)

    return ExchangeOps(inspect=inspect, revoke=revoke, can_revoke=supports_api_revoke, key_page=key_page,
                       display_name=display_name)


def registry_services() -> Callable[[str], ServiceInfo | None]:
    """Consumer facts from the exposure registry (name, published egress IPs, what it needs)."""
    from keyhygiene.core.registry import FILE_PREFIX, load_registry
    from keyhygiene.core.service_info import service_from

    registry = load_registry()

    def lookup(service: str) -> ServiceInfo | None:
        if service.startswith(FILE_PREFIX):
            return None
        svc = registry.get(service)
        if svc is None:
            return None
        return service_from(svc)

    return lookup


def policy_assessor(vault: Vault) -> Assessor:
    """The hygiene rules' findings for a key and profile, under the vault's policy and the exposure registry."""
    # Imported here, not at the top: loading the registry and the rules is slow, and only a rotation needs them.
    from keyhygiene.core import rules
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry

    policy = Policy.load(vault.repo)
    registry = load_registry()

    def assess(record: KeyRecord, profile: KeyProfile) -> list[Finding]:
        return list(rules.evaluate(record, profile, policy=policy, registry=registry, now=utcnow()))

    return assess


@dataclass
class Plan:
    """Everything the plan page shows before anything is stored."""

    key: KeyRecord
    exchange_name: str
    baseline: KeyProfile | None  # the old key as the exchange describes it now (or last time, if unreachable)
    baseline_live: bool
    findings: list[Finding]
    consumers: list[Consumer]
    suggested_permissions: list[str]
    ips: list[str]
    api_page: str | None
    revoke_via_api: bool

    @property
    def reasons(self) -> list[str]:
        out = [f.title for f in self.findings]
        if out:
            return out
        shared = [c.name for c in self.consumers]
        if shared:
            out.append("The key was given to: " + ", ".join(shared) + ".")
        out.append("Rotating keys regularly limits what an unnoticed leak can do.")
        return out

    @property
    def advice(self) -> list[str]:
        perms = ", ".join(self.suggested_permissions) or "read"
        lines = [f"On {self.exchange_name}, create a new API key that allows only: {perms}. No withdrawal."]
        listed_elsewhere = [f"{c.name}: {c.ips_hint}" for c in self.consumers if not c.ips and c.ips_hint]
        if self.ips:
            lines.append("Restrict it to these IP addresses (published by the services that use it): "
                         + ", ".join(self.ips) + ", plus this computer's IP so KeyHygiene can check it.")
        if listed_elsewhere:
            lines.append("Restrict it to the IP addresses these services publish ("
                         + "; ".join(listed_elsewhere) + "), plus this computer's IP so KeyHygiene can check it.")
        if not self.ips and not listed_elsewhere:
            lines.append("Restrict it to the IP addresses of the computers that use it, plus this computer's IP so "
                         "KeyHygiene can check it.")
        if self.api_page:
            lines.append(f"{self.exchange_name}'s API page: {self.api_page}")
        if self.baseline is not None and self.baseline.status in AUTH_REJECTIONS:
            lines.append(f"{self.exchange_name} already rejects the old key ({self.baseline.status.value}); "
                         "the rotation will replace it.")
        return lines


@dataclass
class RevokeReport:
    method: str  # "api" | "manual"
    ok: bool | None  # API result; None for manual
    message: str
    api_page: str | None
    old_fingerprint: str


@dataclass
class VerifyReport:
    dead: bool
    timed_out: bool
    status: str | None
    certain: bool
    attempts: int
    explanation: str
    both_rejected: bool = False


@dataclass
class Attempt:
    """One poll of the old key (for progress output)."""

    number: int
    status: str
    next_in: float | None


def backoff_delays(first: float = 2.0, factor: float = 2.0, cap: float = 30.0) -> Any:
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


@dataclass
class RotationMachine:
    """One key's rotation. Create it, ``load()`` to pick up an unfinished rotation, then call the step methods."""

    vault: Vault
    key_id: str
    ops: ExchangeOps
    services: Callable[[str], ServiceInfo | None] = field(default=lambda _s: None)
    assess: Assessor | None = None
    hook: JournalHook | None = env_crash_hook
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    rotation: Rotation | None = None

    def __post_init__(self) -> None:
        self.journal = Journal(self.vault.db, self.hook)
        self.key = self.vault.get_key(self.key_id)

    # ---- reading state ------------------------------------------------------------------------------------
    def load(self) -> Rotation | None:
        """The key's unfinished rotation, if any (what ``--resume`` and the banner's "Resume" open)."""
        self.key = self.vault.get_key(self.key_id)
        self.rotation = self.journal.open_for(self.key_id)
        return self.rotation

    @property
    def step(self) -> Step:
        return self.rotation.state if self.rotation else Step.PLAN

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.rotation.data) if self.rotation else {}

    @property
    def exchange_name(self) -> str:
        return self.ops.display_name(self.key.exchange)

    def test_report(self) -> NewKeyReport | None:
        d = self.data.get("test")
        return NewKeyReport.from_json(d) if d else None

    def consumers(self) -> list[Consumer]:
        return [Consumer.from_json(c) for c in self.data.get("consumers", [])]

    def interrupted(self) -> Action | None:
        """The step a crash cut short (its ``begin`` was journalled, its ``done`` not), if any."""
        if self.rotation is None:
            return None
        e = self.journal.interrupted(self.rotation.id)
        return e.action if e else None

    def can_back(self) -> bool:
        return self.step in BACK and self.interrupted() is not Action.REVOKE

    def can_cancel(self) -> bool:
        """Whether cancel is possible without asking the exchange (VERIFY_OLD after a manual revocation asks)."""
        if self.rotation is None:
            return True
        if self.step in CANCELLABLE:
            return self.interrupted() is not Action.REVOKE
        return self.step is Step.VERIFY_OLD and (self.data.get("revoke") or {}).get("method") == "manual"

    def pending_credentials(self) -> Credentials | None:
        """The new key as stored in the keychain (``--resume`` reads it from here)."""
        return self.vault.secrets.get(self.key_id, PENDING)

    # ---- plan ---------------------------------------------------------------------------------------------
    async def plan(self) -> Plan:
        """Gather what the plan page shows; stores nothing. Asks the exchange about the old key (read-only)."""
        self._require_none()
        self.key = self.vault.get_key(self.key_id)
        old = await asyncio.to_thread(self.vault.secrets.get, self.key_id, CURRENT)
        if old is None:
            raise RotationError(
                f"Key {self.key_id} has no secret in the keychain, so its replacement could not be checked against "
                "it. Add the key again (keys remove, keys add) instead of rotating it."
            )
        baseline: KeyProfile | None = await self.ops.inspect(self.key.exchange, old, self.key.declared_permissions)
        live = True
        if baseline is None or Status(baseline.status) not in ({Status.OK} | AUTH_REJECTIONS):
            stored = self.vault.repo.latest_inspection(self.key_id)
            baseline, live = (stored[1], False) if stored else (baseline, True)
        findings = self.assess(self.key, baseline) if (self.assess and baseline is not None) else []
        consumers = consumers_of(self.key, self._service_infos())
        return Plan(
            key=self.key,
            exchange_name=self.exchange_name,
            baseline=baseline,
            baseline_live=live,
            findings=findings,
            consumers=consumers,
            suggested_permissions=suggest_permissions(self.key.purpose, baseline, consumers),
            ips=ips_to_whitelist(consumers),
            api_page=self.ops.key_page(self.key.exchange),
            revoke_via_api=self.ops.can_revoke(self.key.exchange),
        )

    def start(self, plan: Plan) -> Rotation:
        """The user confirmed the plan: the rotation exists from here on (START)."""
        self._require_none()
        data = {
            "baseline": plan.baseline.to_json() if plan.baseline is not None else None,
            "baseline_live": plan.baseline_live,
            # Kept apart: the account id is not part of the profile's JSON contract.
            "baseline_account": account_of(plan.baseline),
            "consumers": [c.to_json() for c in plan.consumers],
            "suggested_permissions": plan.suggested_permissions,
            "ips": plan.ips,
            "old_digest": self.key.key_sha256,
        }
        self.rotation = self.journal.start(self.key_id, self.key.fingerprint, Step.NEW_KEY, data)
        log.info("rotation %s of key %s started", self.rotation.id, self.key_id)
        return self.rotation

    # ---- createSecret: the new key as pending -------------------------------------------------------------
    async def store_new_key(self, creds: Credentials) -> Rotation:
        """Check the pasted key and store it in slot ``pending``. Replaces an earlier pending key (a refused one)."""
        rot = self._require(Step.NEW_KEY, Step.TEST_NEW)
        redact.remember(creds.secret_values())
        validate_credentials(self.key.exchange, creds, self.vault.catalog)
        digest = key_digest(self.key.exchange, creds.api_key)
        if digest == self.rotation_data("old_digest", self.key.key_sha256):
            raise ValidationError(
                "api_key",
                f"This is the old key again. Create a new key on {self.exchange_name} and paste that one.",
            )
        other = self.vault.repo.find_by_digest(digest)
        if other is not None and other.id != self.key_id:
            raise ValidationError(
                "api_key", f"This API key is already stored as {other.id} ({other.label!r}): paste the new key "
                           "you created for this rotation.",
            )
        fingerprint = mask_key(creds.api_key)
        self.journal.begin(rot.id, Action.STORE_PENDING, {"fingerprint": fingerprint, "digest": digest})
        await asyncio.to_thread(self.vault.secrets.put, self.key_id, creds, PENDING)
        data = self.data
        data.update(new={"fingerprint": fingerprint, "digest": digest}, test=None, accepted_risks=[])
        self.rotation = self.journal.done(rot.id, Action.STORE_PENDING, {"fingerprint": fingerprint},
                                          state=Step.TEST_NEW, data=data)
        return self.rotation

    def rotation_data(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    # ---- testSecret ---------------------------------------------------------------------------------------
    async def test_new_key(self) -> NewKeyReport:
        """Ask the exchange about the new key and judge it. PASSED moves on; RISKY waits for ``accept_risk``;
        REFUSED waits for another key; RETRY changes nothing."""
        rot = self._require(Step.TEST_NEW)
        creds = await asyncio.to_thread(self.vault.secrets.get, self.key_id, PENDING)
        if creds is None:
            raise RotationError("The new key is no longer in the keychain: go back and paste it again.")
        self.journal.begin(rot.id, Action.TEST_NEW)
        profile = await self.ops.inspect(self.key.exchange, creds, self.key.declared_permissions)
        baseline = self.data.get("baseline")
        old = KeyProfile.from_json(baseline) if baseline else None
        findings: list[Finding] = []
        if self.assess is not None and profile.status is Status.OK:
            findings = self.assess(self._as_new_record(profile), profile)
        report = judge(self.key, old, profile, findings, old_account=self.data.get("baseline_account"))
        data = self.data
        data["test"] = report.to_json()
        data["tested_at"] = iso(utcnow())
        state = Step.CONSUMERS if report.verdict is Verdict.PASSED else None
        self.rotation = self.journal.done(rot.id, Action.TEST_NEW, {"verdict": report.verdict.value,
                                                                    "status": report.status},
                                          state=state, data=data)
        return report

    def accept_risk(self) -> Rotation:
        """The user explicitly accepts a withdraw-enabled or unrestricted new key."""
        rot = self._require(Step.TEST_NEW)
        report = self.test_report()
        if report is None or report.verdict is not Verdict.RISKY:
            raise RotationError("There is no risk to accept: test the new key first.")
        data = self.data
        data["accepted_risks"] = list(report.risks)
        self.rotation = self.journal.done(rot.id, Action.ACCEPT_RISK, {"risks": report.risks},
                                          state=Step.CONSUMERS, data=data)
        return self.rotation

    # ---- setSecret: consumers -----------------------------------------------------------------------------
    def tick_consumer(self, consumer_id: str, done: bool = True) -> list[Consumer]:
        rot = self._require(Step.CONSUMERS)
        items = self.consumers()
        if not any(c.id == consumer_id for c in items):
            raise RotationError(f"{consumer_id!r} is not on this rotation's checklist.")
        for c in items:
            if c.id == consumer_id:
                c.done = done
        data = self.data
        data["consumers"] = [c.to_json() for c in items]
        self.rotation = self.journal.save_data(rot.id, data)
        return items

    def confirm_consumers(self, tick_all: bool = False) -> Rotation:
        """Every consumer has the new key. ``tick_all`` is ``--yes``: the user confirms the whole list at once."""
        rot = self._require(Step.CONSUMERS)
        items = self.consumers()
        if tick_all:
            for c in items:
                c.done = True
        missing = [c.name for c in items if not c.done]
        if missing:
            raise RotationError("Still to update: " + ", ".join(missing) + ". Give each the new key first.")
        data = self.data
        data["consumers"] = [c.to_json() for c in items]
        self.rotation = self.journal.done(rot.id, Action.CONSUMERS, {"count": len(items)},
                                          state=Step.REVOKE_OLD, data=data)
        return self.rotation

    # ---- the old key: revoke, verify ----------------------------------------------------------------------
    def revoke_method(self) -> str:
        return "api" if self.ops.can_revoke(self.key.exchange) else "manual"

    async def revoke_old(self, use_api: bool = True) -> RevokeReport:
        """Delete the old key through the exchange API (after the user confirmed) or hand it to the user."""
        rot = self._require(Step.REVOKE_OLD)
        page = self.ops.key_page(self.key.exchange)
        method = "api" if (use_api and self.ops.can_revoke(self.key.exchange)) else "manual"
        ok: bool | None = None
        if method == "api":
            old = await asyncio.to_thread(self.vault.secrets.get, self.key_id, CURRENT)
            if old is None:
                raise RotationError("The old key's secret is missing from the keychain; delete the key on the "
                                    "exchange's API page instead.")
            resumed = self.interrupted() is Action.REVOKE
            if resumed and Status((await self.ops.inspect(self.key.exchange, old, None)).status) in AUTH_REJECTIONS:
                # The previous attempt got through before the crash: do not send the delete again.
                ok, message = True, "The exchange had already deleted the old key."
            else:
                self.journal.begin(rot.id, Action.REVOKE, {"method": method})
                result = await self.ops.revoke(self.key.exchange, old)
                ok, message = bool(result.ok), redact.scrub(result.message)
                if not result.supported:
                    method, ok = "manual", None
        else:
            self.journal.begin(rot.id, Action.REVOKE, {"method": method})
        if method == "manual" or not ok:
            where = f" at {page}" if page else " on the exchange's website"
            lead = f"{message} " if method == "api" else ""
            message = (f"{lead}Delete the key {self.key.fingerprint} ({self.key.label}) on {self.exchange_name}{where}."
                       " Leave the new key in place.")
        data = self.data
        data["revoke"] = {"method": method, "ok": ok, "message": message, "at": iso(utcnow())}
        self.rotation = self.journal.done(rot.id, Action.REVOKE, {"method": method, "ok": ok},
                                          state=Step.VERIFY_OLD, data=data)
        return RevokeReport(method=method, ok=ok, message=message, api_page=page,
                            old_fingerprint=self.key.fingerprint)

    async def verify_old_dead(
        self,
        timeout: float,
        on_attempt: Callable[[Attempt], None] | None = None,
        cancel: asyncio.Event | None = None,
    ) -> VerifyReport:
        """Poll the exchange with backoff until it rejects the old key, or ``timeout`` seconds pass."""
        rot = self._require(Step.VERIFY_OLD)
        old = await asyncio.to_thread(self.vault.secrets.get, self.key_id, CURRENT)
        new = await asyncio.to_thread(self.vault.secrets.get, self.key_id, PENDING)
        if old is None or new is None:
            raise RotationError("A key of this rotation is missing from the keychain; it cannot be verified.")
        deadline = self.clock() + max(0.0, timeout)
        delays = backoff_delays()
        attempt = 0
        last: Status | None = None
        while True:
            attempt += 1
            prof = await self.ops.inspect(self.key.exchange, old, self.key.declared_permissions)
            last = Status(prof.status)
            if last in AUTH_REJECTIONS:
                new_prof = await self.ops.inspect(self.key.exchange, new, self.key.declared_permissions)
                new_status = Status(new_prof.status)
                if new_status is Status.OK:
                    verdict = dead_verdict(last, self.exchange_name, new_key_ok=True)
                    return self._mark_dead(rot, last, verdict, attempt)
                if new_status in AUTH_REJECTIONS:
                    text = (f"{self.exchange_name} now rejects both the old key ({last.value}) and the new one "
                            f"({new_status.value}). Either this computer is blocked, or the new key was deleted "
                            "instead of the old one. Check the exchange's API page: the new key must still be there. "
                            "Nothing was changed in the keychain.")
                    self.rotation = self.journal.note(rot.id, Action.VERIFY, {"old": last.value,
                                                                             "new": new_status.value})
                    return VerifyReport(False, False, last.value, False, attempt, text, both_rejected=True)
            remaining = deadline - self.clock()
            wait = min(next(delays), remaining) if remaining > 0 else None
            if on_attempt is not None:
                on_attempt(Attempt(attempt, last.value, wait))
            if wait is None or (cancel is not None and cancel.is_set()):
                break
            await self._wait(wait, cancel)
            if cancel is not None and cancel.is_set():
                break
        verdict = dead_verdict(last, self.exchange_name, None)
        self.rotation = self.journal.note(rot.id, Action.VERIFY, {"status": last.value, "attempts": attempt})
        return VerifyReport(False, True, last.value, verdict.certain, attempt,
                            verdict.explanation + " The rotation is saved; resume it once the old key is deleted.")

    async def _wait(self, seconds: float, cancel: asyncio.Event | None) -> None:
        if cancel is None:
            await self.sleep(seconds)
            return
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleeper, stopper):
                t.cancel()
            await asyncio.gather(sleeper, stopper, return_exceptions=True)

    def _mark_dead(self, rot: Rotation, status: Status, verdict: DeadVerdict, attempts: int) -> VerifyReport:
        now = utcnow()
        data = self.data
        data["verify"] = {"status": status.value, "certain": verdict.certain, "explanation": verdict.explanation,
                          "at": iso(now)}
        self.rotation = self.journal.done(rot.id, Action.VERIFY, {"status": status.value, "certain": verdict.certain},
                                          state=Step.FINISH, data=data, columns={"old_dead_at": now})
        return VerifyReport(True, False, status.value, verdict.certain, attempts, verdict.explanation)

    # ---- finishSecret -------------------------------------------------------------------------------------
    async def finish(self) -> Rotation:
        """Promote the new key, record the rotation, remove the pending slot. Each part runs at most once."""
        rot = self._require(Step.FINISH)
        new = self.data.get("new") or {}
        done = {e.action for e in self.journal.entries(rot.id) if e.phase is Phase.DONE}
        pending = await asyncio.to_thread(self.vault.secrets.get, self.key_id, PENDING)
        if Action.PROMOTE not in done:
            if pending is None or key_digest(self.key.exchange, pending.api_key) != new.get("digest"):
                raise RotationError("The new key is missing from the keychain's pending slot; the rotation cannot "
                                    "finish. The old key is deleted on the exchange: add the new key with keys add.")
            other = self.vault.repo.find_by_digest(new["digest"])
            if other is not None and other.id != self.key_id:
                raise RotationError(f"The new key was meanwhile stored as {other.id} ({other.label!r}). Remove that "
                                    "entry (keys remove) and resume the rotation.")
            self.journal.begin(rot.id, Action.PROMOTE)
            # Overwrites the old key's secret: the exchange has rejected that key (VERIFY), so it is worthless now.
            await asyncio.to_thread(self.vault.secrets.put, self.key_id, pending, CURRENT)
            self.rotation = self.journal.done(rot.id, Action.PROMOTE, {"fingerprint": new.get("fingerprint")})
        if Action.RECORD not in done:
            self.rotation = self.journal.done(
                rot.id, Action.RECORD, {"fingerprint": new.get("fingerprint")},
                columns={"new_fingerprint": new.get("fingerprint")}, also=self._record_key,
            )
        self.journal.begin(rot.id, Action.DELETE_PENDING)
        await asyncio.to_thread(self.vault.secrets.delete, self.key_id, PENDING)
        self.rotation = self.journal.done(rot.id, Action.DELETE_PENDING, state=Step.DONE,
                                          columns={"finished_at": utcnow()})
        self.key = self.vault.get_key(self.key_id)
        log.info("rotation %s of key %s finished (%s -> %s)", rot.id, self.key_id, rot.old_fingerprint,
                 new.get("fingerprint"))
        return self.rotation

    def _record_key(self, c: Any) -> None:
        """Inside RECORD's transaction: the entry now describes the new key, which starts unshared."""
        new = self.data["new"]
        test = self.data.get("test") or {}
        profile = KeyProfile.from_json(test["profile"]) if test.get("profile") else None
        tested_at = self.data.get("tested_at") or iso(utcnow())
        created = profile.created_at if profile and profile.created_at else utcnow()
        repo = self.vault.repo
        repo.update_key(c, self.key_id, fingerprint=new["fingerprint"], key_sha256=new["digest"], created_at=created)
        repo.end_all_exposures(c, self.key_id, utcnow().date())
        if profile is not None:
            # The new key's test is its first inspection, so the detail pane does not show the old key's profile.
            import json

            c.execute("INSERT INTO inspections(key_id, checked_at, status, profile) VALUES (?,?,?,?)",
                      (self.key_id, tested_at, profile.status.value, json.dumps(profile.to_json())))

    # ---- back, cancel -------------------------------------------------------------------------------------
    def back(self) -> Rotation:
        rot = self._require(*BACK)
        if self.interrupted() is Action.REVOKE:
            raise RotationError("The old key's deletion has begun; the rotation can only go forward.")
        target = BACK[rot.state]
        data = self.data
        if target in (Step.NEW_KEY, Step.TEST_NEW):
            data["accepted_risks"] = []
        if target is Step.NEW_KEY:
            data["test"] = None
        self.rotation = self.journal.done(rot.id, Action.BACK, {"from": rot.state.value, "to": target.value},
                                          state=target, data=data)
        return self.rotation

    async def cancel(self) -> Rotation | None:
        """Stop the rotation: the pending key is removed, the current key is never touched."""
        if self.rotation is None:
            return None
        rot = self._require(*CANCELLABLE, Step.VERIFY_OLD)
        if self.interrupted() is Action.REVOKE:
            raise RotationError("The old key's deletion through the exchange API has begun: finish the rotation.")
        if rot.state is Step.VERIFY_OLD:
            if (self.data.get("revoke") or {}).get("method") != "manual":
                raise RotationError("The exchange was asked to delete the old key: finish the rotation.")
            old = await asyncio.to_thread(self.vault.secrets.get, self.key_id, CURRENT)
            prof = await self.ops.inspect(self.key.exchange, old, self.key.declared_permissions) if old else None
            if prof is None or Status(prof.status) is not Status.OK:
                raise RotationError(
                    f"{self.exchange_name} does not accept the old key any more"
                    f"{f' ({prof.status.value})' if prof else ''}: cancelling would leave you without a working "
                    "key. Finish the rotation instead."
                )
        self.journal.begin(rot.id, Action.DISCARD_PENDING)
        await asyncio.to_thread(self.vault.secrets.delete, self.key_id, PENDING)
        self.rotation = self.journal.done(rot.id, Action.DISCARD_PENDING, state=Step.CANCELLED,
                                          columns={"finished_at": utcnow()})
        return self.rotation

    # ---- helpers ------------------------------------------------------------------------------------------
    def _require_none(self) -> None:
        """Planning and starting need a key without an unfinished rotation."""
        if self.rotation is not None and self.rotation.state not in TERMINAL:
            raise RotationError(f"This rotation is already at '{self.rotation.state.value}'.")
        existing = self.journal.open_for(self.key_id)
        if existing is not None:
            raise RotationError(f"Key {self.key_id} already has a rotation in progress (at "
                                f"'{existing.state.value}'): resume it (keyhygiene rotate {self.key_id} --resume).")
        self.rotation = None

    def _require(self, *steps: Step) -> Rotation:
        """The current rotation, re-read from the store, if it is at one of ``steps``."""
        if self.rotation is None:
            raise RotationError(f"Key {self.key_id} has no rotation in progress.")
        # Another window or process may have moved it on: always act on the stored state.
        self.rotation = self.journal.get(self.rotation.id)
        if self.rotation.state in TERMINAL:
            raise RotationError(f"This rotation is already {self.rotation.state.value}.")
        if self.rotation.state not in steps:
            raise RotationError(
                f"The rotation is at '{self.rotation.state.value}', not at "
                f"{' or '.join(repr(s.value) for s in steps)}."
            )
        return self.rotation

    def _service_infos(self) -> dict[str, ServiceInfo]:
        out: dict[str, ServiceInfo] = {}
        for s in self.key.shared_with:
            info = self.services(s)
            if info is not None:
                out[s] = info
        return out

    def _as_new_record(self, profile: KeyProfile) -> KeyRecord:
        """The key entry as it will be after the rotation: new fingerprint, just created, shared with nobody."""
        new = self.data.get("new") or {}
        now = utcnow()
        return KeyRecord(
            id=self.key.id, exchange=self.key.exchange, label=self.key.label, purpose=self.key.purpose,
            fingerprint=new.get("fingerprint", profile.key), key_sha256=new.get("digest", ""),
            created_at=profile.created_at or now, added_at=self.key.added_at, updated_at=now,
            declared_permissions=self.key.declared_permissions, note=self.key.note, exposures=[],
        )

