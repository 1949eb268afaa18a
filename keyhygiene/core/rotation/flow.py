"""The rotation's navigation, UI-agnostic (Electrum's ``wizard.py`` split): for the step a rotation is at, what it
shows (title, text, fields), which actions it offers (with their labels, and the question to ask first), which
action runs by itself on arrival and with what timeout. The Qt wizard renders a ``View`` and runs the choice a
button names; ``keyhygiene rotate`` prints the same ``View`` and runs the same choices. Neither decides anything.

``RotationFlow.run`` is a coroutine: every journal write and keychain call happens wherever the caller runs it (the
app's asyncio loop, the command line's ``asyncio.run``), never on the GUI thread. ``view()`` only reads what the
last ``run`` left in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from keyhygiene.core.models import Credentials
from keyhygiene.core.permissions import permission_words
from keyhygiene.core.rotation.assessment import Consumer, NewKeyReport
from keyhygiene.core.rotation.machine import (
    Attempt,
    Plan,
    RevokeReport,
    RotationError,
    RotationMachine,
    VerifyReport,
)
from keyhygiene.core.rotation.states import TITLES, Action, Step, Verdict, progress

# How long the wizard polls for the old key's rejection on arrival before it waits for "Check again" (the user may
# take a while on the exchange's website). The command line passes its --revoke-timeout instead.
VERIFY_TIMEOUT_S = 30 * 60


class Role(StrEnum):
    """Where a renderer puts a choice: the default button, a second choice, back, cancel, or close."""

    NEXT = "next"
    ALT = "alt"
    BACK = "back"
    CANCEL = "cancel"
    CLOSE = "close"


class Need(StrEnum):
    """Input a choice reads from the page before it runs."""

    CREDENTIALS = "credentials"  # the new key's fields
    ACCEPT = "accept"  # the "I accept these risks" box is ticked
    TICKS = "ticks"  # every consumer line is ticked off


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    role: Role
    enabled: bool = True
    needs: tuple[Need, ...] = ()
    confirm: str | None = None  # a yes/no question to ask before running it
    busy: str = ""  # what to say while it runs
    while_busy: bool = False  # stays usable while another choice runs ("Check again" cuts a wait short)
    ask_first: bool = False  # the window asks ``confirm`` too (a click is confirmation enough for the others)


@dataclass(frozen=True)
class Auto:
    """A choice that runs by itself once per arrival at the step."""

    choice: str
    timeout: float | None = None


@dataclass(frozen=True)
class Field:
    """An input the step shows. ``kind``: secret (a credential), decision (keep/stop a consumer), check (tick a
    consumer off), accept (accept the new key's risks)."""

    name: str
    kind: str
    label: str
    hint: str = ""
    value: bool | None = None


@dataclass
class Section:
    title: str | None
    lines: list[str]


@dataclass
class Link:
    label: str
    url: str
    field: str | None = None  # the field it belongs to (a consumer's own page), None: the step's


@dataclass
class View:
    step: Step
    page: str  # which page a renderer uses: plan, new_key, test, consumers, revoke, verify, done
    title: str
    position: tuple[int, int]
    exchange_name: str
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    auto: Auto | None = None
    waiting: str = ""  # shown instead of the content while the auto choice runs
    # The step's plain objects, for renderers that draw them richer than text (chips, checkboxes).
    plan: Plan | None = None
    report: NewKeyReport | None = None
    consumers: list[Consumer] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    result: str = ""
    public_key: str = ""  # a generated key pair's public key PEM, to register on the exchange's page

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    def by_role(self, role: Role) -> Choice | None:
        return next((c for c in self.choices if c.role is role), None)

    @property
    def text(self) -> list[str]:
        """The whole view as lines of text (the command line prints these)."""
        out = [self.intro] if self.intro else []
        for s in self.sections:
            if s.title:
                out.append(s.title + ":")
            out += [f"  - {line}" for line in s.lines] if s.title else s.lines
        out += [f"{link.label}: {link.url}" for link in self.links]
        return out


@dataclass
class Inputs:
    """What the page (or the command line) collected for a choice."""

    credentials: Credentials | None = None
    accept: bool = False
    decisions: dict[str, bool] = field(default_factory=dict)  # consumer id -> keep
    ticks: dict[str, bool] = field(default_factory=dict)  # consumer id -> done
    kind: str | None = None  # the key pair type to generate ("ed25519", "rsa"); None: the recommended one


class Outcome(StrEnum):
    MOVED = "moved"  # the rotation is at another step (or the same step, re-rendered)
    STAYED = "stayed"  # nothing moved: the view says why (a refused key, a risk, an old key still alive)
    RETRY = "retry"  # the exchange could not be asked; nothing changed
    DONE = "done"
    CANCELLED = "cancelled"
    CLOSE = "close"


class RotationFlow:
    """Drives one ``RotationMachine``: ``view()`` for the step it is at, ``run(choice, inputs)`` to act."""

    def __init__(self, machine: RotationMachine, *, verify_timeout: float = VERIFY_TIMEOUT_S,
                 on_attempt: Callable[[Attempt], None] | None = None) -> None:
        self.m = machine
        self.verify_timeout = verify_timeout
        self.on_attempt = on_attempt
        self.plan: Plan | None = None
        self.plan_error: str | None = None
        self.replacing = False  # TEST_NEW, but the user wants to paste another key
        self.revoke: RevokeReport | None = None
        self.verify: VerifyReport | None = None
        self.attempts: list[str] = []
        self.public_pem: str | None = None  # the waiting key pair's public key, read back from the keychain
        self._interrupted: Action | None = None
        self._can_back = False
        self._can_cancel = True
        self._wake: asyncio.Event | None = None
        self.cancel_wait: asyncio.Event | None = None
        self.closed = False
        self._lock: asyncio.Lock | None = None  # one choice at a time: ticks sent quickly must not overwrite
        self.refresh()

    # ---- state ----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the rotation from the journal (after a run, or another window moved it on). Reads only."""
        rid = self.m.rotation.id if self.m.rotation is not None else None
        self.m.load()
        if self.m.rotation is None and rid is not None:
            self.m.rotation = self.m.journal.get(rid)  # finished or cancelled: the end page still shows it
        self._interrupted = self.m.interrupted()
        self._can_back = self.m.can_back()
        self._can_cancel = self.m.can_cancel()

    @property
    def step(self) -> Step:
        return self.m.step

    @property
    def interrupted(self) -> Action | None:
        return self._interrupted

    @property
    def decisions_open(self) -> bool:
        """Keep/stop can still change: from the loaded plan until the consumers step is confirmed."""
        return (self.step is Step.PLAN and self.plan is not None) or self.step in (
            Step.NEW_KEY, Step.TEST_NEW, Step.CONSUMERS)

    def consumers(self) -> list[Consumer]:
        """The consumers and their decisions: the plan's before the rotation starts, the journal's after."""
        return self.plan.consumers if self.step is Step.PLAN and self.plan is not None else self.m.consumers()

    # ---- the view -------------------------------------------------------------------------------------------
    def view(self) -> View:
        step = self.step
        page = _PAGES[step]
        if step is Step.TEST_NEW and self.replacing:
            page = "new_key"
        v = View(step=step, page=page, title=TITLES[step], position=progress(step), exchange_name=self.m.exchange_name)
        builder = getattr(self, f"_view_{page}")
        builder(v)
        back_ok = self.replacing or self._can_back
        if step not in (Step.PLAN, Step.FINISH, Step.DONE, Step.CANCELLED):
            if back_ok:
                v.choices.append(Choice("back", "Back", Role.BACK))
            if step is not Step.VERIFY_OLD or self._can_cancel:
                v.choices.append(Choice(
                    "cancel", "Cancel rotation\u2026", Role.CANCEL, enabled=self._can_cancel,
                    confirm="Cancel this rotation? The new key is removed from the keychain; the current key stays "
                            "exactly as it is. If you already created a new key on the exchange, delete it there.",
                    busy="Cancelling\u2026", ask_first=True))
        return v

    def _view_plan(self, v: View) -> None:
        m, plan = self.m, self.plan
        if plan is None:
            v.auto = None if self.plan_error else Auto("load_plan")
            v.waiting = f"Asking {m.exchange_name} about the current key\u2026"
            if self.plan_error:
                v.sections.append(Section(None, [self.plan_error]))
            v.choices.append(Choice("load_plan", "Try again" if self.plan_error else "Start rotation", Role.NEXT,
                                    busy=v.waiting))
            return
        v.plan = plan
        key = plan.key
        v.intro = f"{plan.exchange_name} key {key.fingerprint} \u2014 \u201c{key.label}\u201d (purpose: {key.purpose})"
        v.sections.append(Section("Why rotate this key", plan.reasons))
        if plan.consumers:
            v.sections.append(Section("Who has it now, and who gets the new key",
                                      [_decision_line(c) for c in plan.consumers]))
            v.fields += [_decision_field(c) for c in plan.consumers]
        v.sections.append(Section("Create the new key", plan.advice))
        if plan.api_page:
            v.links.append(Link(f"Open {plan.exchange_name}'s API page", plan.api_page))
        how = ("through its API, after you confirm" if plan.revoke_via_api
               else "by you, on its API page; KeyHygiene then checks that it is gone")
        v.sections.append(Section(None, [
            f"The current key stays in the keychain until {plan.exchange_name} rejects it. It will be deleted {how}. "
            "Nothing changes until you start."]))
        v.choices.append(Choice("start", "Start rotation", Role.NEXT, confirm="Start the rotation?",
                                busy="Starting\u2026"))

    def _view_new_key(self, v: View) -> None:
        m = self.m
        page = m.ops.key_page(m.key.exchange)
        if page:
            v.links.append(Link(f"Open {m.exchange_name}'s API page", page))
        if m.keypair_waiting() is not None and not self.replacing:
            self._view_keypair(v)
            return
        what = "another new key" if self.replacing else "the new key"
        v.intro = (f"Create {what} on {m.exchange_name}, then paste it here. It is stored in the keychain as "
                   "pending; the current key stays as it is.")
        v.fields += [Field("api_key", "secret", "API key"), Field("secret", "secret", "Secret")]
        if m.ops.needs_passphrase(m.key.exchange):
            v.fields.append(Field("passphrase", "secret", "Passphrase"))
        v.choices.append(Choice("store", "Store new key", Role.NEXT, needs=(Need.CREDENTIALS,),
                                busy="Storing the new key in the keychain\u2026"))
        kinds = m.keypair_kinds()
        if kinds:
            from keyhygiene.core.keypair import kind_label

            v.sections.append(Section(None, [
                f"Or let KeyHygiene generate a key pair here ({' or '.join(kind_label(k) for k in kinds)}; "
                f"{kind_label(kinds[0])} is what {m.exchange_name} recommends): the private key goes straight into "
                "the keychain and never through a browser or the clipboard; you register only the public key."]))
            v.fields.append(Field("keypair_kind", "choice", "Key type", hint=",".join(kinds)))
            v.choices.append(Choice("generate_keypair", "Generate a key pair here", Role.ALT,
                                    busy="Generating a key pair on this computer\u2026"))

    def _view_keypair(self, v: View) -> None:
        m = self.m
        label = m.keypair_label()
        v.page = "new_key"
        v.intro = (f"The private key of a new {label} key pair is in the keychain as the pending key; it never "
                   f"leaves this computer. On {m.exchange_name}'s API page, create a key with your own public key "
                   f"(\u201cself-generated\u201d), paste the public key below, then paste here the API key "
                   f"{m.exchange_name} shows for it.")
        if self.public_pem:
            v.sections.append(Section("Public key (safe to copy)", [self.public_pem.strip()]))
            v.public_key = self.public_pem
        else:
            v.auto = Auto("show_public_key")
        v.fields.append(Field("api_key", "secret", "API key"))
        v.choices.append(Choice("store_api_key", "Store API key", Role.NEXT, needs=(Need.CREDENTIALS,),
                                busy="Storing the new key in the keychain\u2026"))
        v.choices.append(Choice("drop_keypair", "Paste a key instead", Role.ALT))

    def _view_test(self, v: View) -> None:
        m = self.m
        report = m.test_report()
        v.report = report
        v.waiting = f"Asking {m.exchange_name} about the new key\u2026"
        if report is None:
            v.auto = Auto("test")
            v.choices.append(Choice("test", "Test new key", Role.NEXT, busy=v.waiting))
            return
        prof = report.profile or {}
        if report.status == "ok":
            restricted = {True: "yes", False: "no", None: "not reported"}[prof.get("ip_restricted")]
            v.intro = (f"New key {prof.get('key', '')}: allows {permission_words(prof.get('permissions') or [])}; "
                       f"restricted to IP addresses: {restricted}.")
        if report.verdict is Verdict.REFUSED:
            v.sections.append(Section("This key cannot be used", report.refusals))
        if report.verdict is Verdict.RETRY:
            v.sections.append(Section("Could not test the key", report.warnings))
        if report.findings:
            v.sections.append(Section("Policy findings for the new key",
                                      [f"[{f['severity']}] {f['title']}" for f in report.findings]))
        if report.verdict is not Verdict.RETRY and report.warnings:
            v.sections.append(Section("Worth a look", report.warnings))
        if report.verdict is Verdict.RISKY:
            v.sections.append(Section("Risks", report.risk_texts))
            v.fields.append(Field("accept", "accept", "I understand these risks and want to use this key anyway"))
            v.choices.append(Choice("accept_risk", "Continue with this key", Role.NEXT, needs=(Need.ACCEPT,),
                                    busy="Saving\u2026"))
        else:
            v.choices.append(Choice("test", "Test again", Role.NEXT, busy=v.waiting))
        if report.verdict in (Verdict.REFUSED, Verdict.RISKY):
            v.choices.append(Choice("replace", "Use another key\u2026", Role.ALT))

    def _view_consumers(self, v: View) -> None:
        items = self.m.consumers()
        v.consumers = items
        if not items:
            v.intro = ("The old key was not recorded as given to anyone. If something else uses it, give it the new "
                       "key now.")
        else:
            v.intro = ("Give the new key to every consumer you keep, and remove the old key from every one you stop. "
                       "Tick each off: the old key is deleted only after this.")
            for c in items:
                v.fields.append(_decision_field(c))
                v.fields.append(Field(c.id, "check", c.check_label, hint=c.instruction, value=c.done))
            v.sections.append(Section(None, [f"[{'x' if c.done else ' '}] {c.check_label} \u2014 {c.instruction}"
                                             for c in items]))
            v.links += [Link(f"Open {c.name}", c.website, field=c.id) for c in items if c.website]
        v.choices.append(Choice("confirm", "All done", Role.NEXT, needs=(Need.TICKS,) if items else (),
                                confirm="Is every line done?" if items else None, busy="Saving\u2026"))

    def _view_revoke(self, v: View) -> None:
        m = self.m
        page = m.ops.key_page(m.key.exchange)
        key = m.key
        if m.revoke_method() == "api":
            v.intro = (f"{m.exchange_name} can delete the old key {key.fingerprint} (\u201c{key.label}\u201d) through "
                       "its API. It stops working at once, for every consumer that still uses it.")
            v.choices.append(Choice(
                "revoke_api", f"Delete old key via {m.exchange_name} API", Role.NEXT,
                confirm=f"Delete the old key {key.fingerprint} on {m.exchange_name} through its API now? It stops "
                        "working at once.",
                busy=f"Asking {m.exchange_name} to delete the old key\u2026"))
            v.choices.append(Choice("revoke_manual", "I'll delete it on the website", Role.ALT))
        else:
            v.intro = (f"Delete the old key {key.fingerprint} (\u201c{key.label}\u201d) on {m.exchange_name}'s API "
                       "page, and leave the new key in place. Then continue: KeyHygiene checks that the exchange "
                       "rejects the old key.")
            v.choices.append(Choice("revoke_manual", "I deleted it \u2014 check", Role.NEXT))
        if page:
            v.links.append(Link(f"Open {m.exchange_name}'s API page", page))

    def _view_verify(self, v: View) -> None:
        m = self.m
        revoke = self.revoke
        message = revoke.message if revoke else (m.data.get("revoke") or {}).get("message")
        if revoke is not None and revoke.method == "api" and revoke.ok:
            message = f"{m.exchange_name} deleted the old key through its API."
        lead = f"{message}\n\n" if message else ""
        v.intro = f"{lead}Checking that {m.exchange_name} rejects the old key {m.key.fingerprint}."
        v.attempts = list(self.attempts)
        v.result = self.verify.explanation if self.verify else ""
        v.auto = Auto("verify", self.verify_timeout)
        v.waiting = f"Waiting for {m.exchange_name} to reject the old key\u2026"
        page = m.ops.key_page(m.key.exchange)
        if page and (m.data.get("revoke") or {}).get("method") == "manual":
            v.links.append(Link(f"Open {m.exchange_name}'s API page", page))
        v.choices.append(Choice("verify", "Check again", Role.NEXT, busy=v.waiting, while_busy=True))

    def _view_done(self, v: View) -> None:
        m, rot = self.m, self.m.rotation
        if self.step is Step.FINISH:
            v.intro = "Making the new key current\u2026"
            v.auto = Auto("finish")
            v.waiting = v.intro
            v.choices.append(Choice("finish", "Finish", Role.NEXT, busy=v.waiting))
            return
        v.choices.append(Choice("close", "Close", Role.CLOSE))
        if rot is None:
            return
        if self.step is Step.CANCELLED:
            v.intro = (f"The rotation was cancelled. The current key {rot.old_fingerprint} is unchanged and the "
                       "pending key was removed from the keychain. If you created a new key on the exchange, delete "
                       "it there.")
            return
        verify = (rot.data.get("verify") or {}).get("explanation", "")
        consumers = [Consumer.from_json(c) for c in rot.data.get("consumers") or []]
        kept = [c.name for c in consumers if c.keep]
        stopped = [c.name for c in consumers if not c.keep]
        shared = ("The new key is shared with: " + ", ".join(kept) + "." if kept
                  else "The new key is shared with nobody.")
        if stopped:
            shared += " Not given the new key: " + ", ".join(stopped) + "."
        v.intro = (f"\u201c{m.key.label}\u201d now holds the new key {rot.new_fingerprint}. The old key "
                   f"{rot.old_fingerprint} is rejected by {m.exchange_name} and its secret is deleted from the "
                   f"keychain. {verify}\n\n{shared}")

    # ---- acting ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """The window closed (call on the flow's loop): stop waiting for the exchange; the rotation stays saved."""
        self.closed = True
        if self.cancel_wait is not None:
            self.cancel_wait.set()

    def wake(self) -> None:
        """"Check again" while a check waits: ask the exchange now (call on the flow's loop)."""
        if self._wake is not None:
            self._wake.set()

    async def run(self, choice_id: str, inputs: Inputs | None = None) -> Outcome:
        """Run one choice of the current view. Raises RotationError / ValidationError with a message to show."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                return await self._run(choice_id, inputs or Inputs())
            finally:
                await asyncio.to_thread(self.refresh)

    async def _run(self, choice_id: str, inp: Inputs) -> Outcome:  # noqa: C901 - one branch per choice
        m = self.m
        if choice_id == "load_plan":
            self.plan_error = None
            try:
                self.plan = await m.plan()
            except RotationError as exc:
                self.plan_error = str(exc)
                raise
            return Outcome.MOVED
        if choice_id == "decide":
            for cid, keep in inp.decisions.items():
                if self.step is Step.PLAN:
                    if self.plan is None:
                        raise RotationError("The plan is not ready yet.")
                    self.plan.decide(cid, keep)
                else:
                    await asyncio.to_thread(m.decide, cid, keep)
            return Outcome.MOVED
        if choice_id == "tick":
            for cid, done in inp.ticks.items():
                await asyncio.to_thread(m.tick_consumer, cid, done)
            return Outcome.MOVED
        if choice_id == "start":
            if self.plan is None:
                raise RotationError("The plan is not ready yet.")
            for cid, keep in inp.decisions.items():
                self.plan.decide(cid, keep)
            await asyncio.to_thread(m.start, self.plan)
            return Outcome.MOVED
        if choice_id == "store":
            if inp.credentials is None:
                raise RotationError("Paste the new key first.")
            await m.store_new_key(inp.credentials)
            self.replacing = False
            return await self._run("test", inp)  # one request per stored key, right away
        if choice_id == "generate_keypair":
            kinds = m.keypair_kinds()
            self.public_pem = await m.generate_keypair(inp.kind or (kinds[0] if kinds else ""))
            self.replacing = False
            return Outcome.MOVED
        if choice_id == "show_public_key":
            self.public_pem = await m.public_key()
            if self.public_pem is None:
                raise RotationError("The generated key pair is no longer in the keychain: generate a new one.")
            return Outcome.MOVED
        if choice_id == "store_api_key":
            if inp.credentials is None:
                raise RotationError("Paste the API key the exchange shows for your public key.")
            await m.store_keypair_api_key(inp.credentials.api_key)
            self.public_pem = None
            return await self._run("test", inp)
        if choice_id == "drop_keypair":
            await asyncio.to_thread(m.drop_keypair)
            self.public_pem = None
            return Outcome.MOVED
        if choice_id == "test":
            report = await m.test_new_key()
            if report.verdict is Verdict.PASSED:
                return Outcome.MOVED
            return Outcome.RETRY if report.verdict is Verdict.RETRY else Outcome.STAYED
        if choice_id == "accept_risk":
            if not inp.accept:
                raise RotationError("Tick the box to accept the new key's risks, or use another key.")
            await asyncio.to_thread(m.accept_risk)
            return Outcome.MOVED
        if choice_id == "replace":
            self.replacing = True
            return Outcome.MOVED
        if choice_id == "back":
            if self.replacing:
                self.replacing = False
            else:
                await asyncio.to_thread(m.back)
            return Outcome.MOVED
        if choice_id == "confirm":
            for cid, done in inp.ticks.items():
                await asyncio.to_thread(m.tick_consumer, cid, done)
            await asyncio.to_thread(m.confirm_consumers, False)
            return Outcome.MOVED
        if choice_id in ("revoke_api", "revoke_manual"):
            self.revoke = await m.revoke_old(use_api=choice_id == "revoke_api")
            self.attempts, self.verify = [], None
            return Outcome.MOVED
        if choice_id == "verify":
            return await self._verify()
        if choice_id == "finish":
            await m.finish()
            return Outcome.DONE
        if choice_id == "cancel":
            await m.cancel()
            return Outcome.CANCELLED
        if choice_id == "close":
            return Outcome.CLOSE
        raise RotationError(f"Nothing called {choice_id!r} can be done at this step.")

    async def _verify(self) -> Outcome:
        # Made on the loop that runs the check (an asyncio.Event belongs to one loop); closing the window sets it.
        self._wake = asyncio.Event()
        self.cancel_wait = asyncio.Event()
        if self.closed:
            self.cancel_wait.set()  # the window closed before this check began: one look, no waiting
        self.verify = None

        def attempt(a: Attempt) -> None:
            self.attempts.append(a.text)
            if self.on_attempt is not None:
                self.on_attempt(a)

        try:
            self.verify = await self.m.verify_old_dead(self.verify_timeout, on_attempt=attempt,
                                                       cancel=self.cancel_wait, wake=self._wake)
        finally:
            self._wake = None
        return Outcome.MOVED if self.verify.dead else Outcome.STAYED


_PAGES: dict[Step, str] = {
    Step.PLAN: "plan",
    Step.NEW_KEY: "new_key",
    Step.TEST_NEW: "test",
    Step.CONSUMERS: "consumers",
    Step.REVOKE_OLD: "revoke",
    Step.VERIFY_OLD: "verify",
    Step.FINISH: "done",
    Step.DONE: "done",
    Step.CANCELLED: "done",
}


def _decision_line(c: Consumer) -> str:
    line = f"{c.name} \u2014 {c.decision}"
    if c.why:
        line += f" ({c.why})"
    if c.keep and c.ips_hint:
        line += f"; IPs to whitelist: {c.ips_hint}"
    return line


def _decision_field(c: Consumer) -> Field:
    return Field(c.id, "decision", c.name, hint=c.why or "", value=c.keep)
