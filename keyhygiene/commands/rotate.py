"""``keyhygiene rotate KEY_ID [--resume] [--yes] [--accept-risk] [--revoke-timeout SECONDS]``.

The terminal face of the rotation state machine (keyhygiene.core.rotation): each step prints what it needs and
asks only what a person must decide. New credentials come from KEYHYGIENE_API_KEY / _SECRET / _PASSPHRASE or a
hidden prompt, never argv. Exit 0 when the rotation is complete; 5 whenever it ends saved and waiting (resume it
later with ``--resume``: a refused or missing new key included); 4 when the exchange rejected the new key or could
not be reached; 2 only when nothing was saved (bad options, an unknown key, an unconfirmed plan).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from keyhygiene import exitcodes
from keyhygiene.cliutil import ENV_KEY, UsageError, _ask, open_vault, read_credentials
from keyhygiene.core import redact

if TYPE_CHECKING:
    from keyhygiene.core.rotation.machine import Attempt, RotationMachine

DEFAULT_REVOKE_TIMEOUT = 600.0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "rotate", parents=[common],
        help="replace a key with a new one, step by step and crash-safe (new secrets from KEYHYGIENE_API_KEY/"
             "_SECRET/_PASSPHRASE or a prompt)",
        description="Rotate a stored key: plan, paste the new key (kept as pending in the keychain), test it, "
                    "update its consumers, delete the old key on the exchange, check the exchange rejects it, "
                    "then make the new key current. Every step is saved; --resume continues where it stopped.",
    )
    p.add_argument("key_id", metavar="KEY_ID")
    p.add_argument("--resume", action="store_true", help="continue the key's unfinished rotation")
    p.add_argument("--yes", action="store_true",
                   help="confirm the steps that only need a confirmation (the plan, consumers, API deletion)")
    p.add_argument("--accept-risk", action="store_true",
                   help="continue even if the new key can withdraw or is not restricted to IP addresses")
    p.add_argument("--revoke-timeout", type=_seconds, default=DEFAULT_REVOKE_TIMEOUT, metavar="SECONDS",
                   help="how long to wait for the exchange to reject the old key "
                        f"(default {DEFAULT_REVOKE_TIMEOUT:.0f})")
    p.set_defaults(func=cmd_rotate)


def _seconds(text: str) -> float:
    """``--revoke-timeout``: float() alone takes "nan" (which no comparison stops, printed "waiting up to nan s")
    and "inf" (a wait that never ends), so both are refused while parsing, with the negative values: exit 2."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, 0 or more: {text!r}")
    return value


def cmd_rotate(args: argparse.Namespace) -> int:
    from keyhygiene.core.rotation.machine import (
        RotationError,
        RotationMachine,
        exchange_ops,
        policy_assessor,
        registry_services,
    )
    from keyhygiene.service.types import ValidationError

    vault = open_vault(args, keychain=True)
    try:
        vault.secrets.require()  # exit 3 before anything else
        try:
            services = registry_services()
        except Exception:  # noqa: BLE001 - a broken registry costs the checklist its IPs, not the rotation
            services = lambda _s: None  # noqa: E731
        machine = RotationMachine(vault, args.key_id, exchange_ops(args.endpoints), services=services,
                                  assess=policy_assessor(vault))
        rot = machine.load()
        if rot is not None and not args.resume:
            raise UsageError(
                f"Key {args.key_id} has a rotation in progress (at '{rot.state.value}'): continue it with "
                f"keyhygiene rotate {args.key_id} --resume"
            )
        if rot is None and args.resume:
            raise UsageError(f"Key {args.key_id} has no rotation in progress: start one without --resume.")
        flow = TerminalRotation(machine, args)
        try:
            return asyncio.run(flow.run())
        except (RotationError, ValidationError) as exc:
            # A ValidationError here is a refused paste (no key given, the old key again, a malformed key). Left
            # to dispatch() it became exit 2 although the plan was already saved: once the rotation is saved the
            # command ends with it waiting (5) and says how to go on; before that it is a usage error (2).
            _say(f"keyhygiene: {exc}", sys.stderr)
            if machine.rotation is None:
                return exitcodes.USAGE
            how = (f" with the new key in {ENV_KEY}/_SECRET (or typed at a terminal's prompt)"
                   if isinstance(exc, ValidationError) else "")
            _say(f"The rotation is saved; continue it{how}: keyhygiene rotate {args.key_id} --resume", sys.stderr)
            return exitcodes.ROTATION_WAITING
        except KeyboardInterrupt:
            if machine.rotation is not None:
                _say(f"\nStopped. The rotation is saved; continue with: keyhygiene rotate {args.key_id} --resume",
                     sys.stderr)
                return exitcodes.ROTATION_WAITING
            raise
    finally:
        vault.close()


def _say(text: str = "", stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(redact.scrub(text) + "\n")
    out.flush()


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        _say(f"{question} yes (--yes)")
        return True
    if sys.stdin is not None and not sys.stdin.closed and not sys.stdin.isatty():
        _say(f"{question} [y/N]")  # piped answers: show the question the answer belongs to
    answer = _ask(f"{question} [y/N] ", hidden=False).strip().lower()
    return answer in ("y", "yes")


class TerminalRotation:
    """Runs the machine from whatever step it is at until it is done or has to wait for the user."""

    def __init__(self, machine: RotationMachine, args: argparse.Namespace, say: Callable[[str], None] = _say
                 ) -> None:
        self.m = machine
        self.args = args
        self.say = say

    async def run(self) -> int:
        from keyhygiene.core.rotation.states import TERMINAL, TITLES, Step, progress

        m = self.m
        handlers = {
            Step.PLAN: self.plan,
            Step.NEW_KEY: self.new_key,
            Step.TEST_NEW: self.test_new,
            Step.CONSUMERS: self.consumers,
            Step.REVOKE_OLD: self.revoke,
            Step.VERIFY_OLD: self.verify,
            Step.FINISH: self.finish,
        }
        if m.rotation is not None:
            cut = m.interrupted()
            note = f" (the step '{cut.value}' was interrupted and is repeated safely)" if cut else ""
            self.say(f"Resuming the rotation of {m.key.id} ({m.key.label}) at: {TITLES[m.step]}{note}.")
        while m.step not in TERMINAL:
            step = m.step
            n, total = progress(step)
            self.say(f"\n[{n}/{total}] {TITLES[step]}")
            code = await handlers[step]()
            if code is not None:
                return code
        return exitcodes.OK

    # ---- steps: each returns None to go on, or the exit code to stop with ----------------------------------
    async def plan(self) -> int | None:
        m = self.m
        plan = await m.plan()
        key = plan.key
        self.say(f"Key {key.id}: {plan.exchange_name} {key.fingerprint} ({key.label}, purpose {key.purpose})")
        self.say("Why rotate it:")
        for r in plan.reasons:
            self.say(f"  - {r}")
        if plan.consumers:
            self.say("Who has it now (each will need the new key):")
            for c in plan.consumers:
                ips = f"  [IPs to whitelist: {c.ips_hint}]" if c.ips_hint else ""
                self.say(f"  - {c.name}{ips}")
        self.say("What to do:")
        for line in plan.advice:
            self.say(f"  - {line}")
        how = "through its API (after you confirm)" if plan.revoke_via_api else "by you, on its API page"
        self.say(f"The old key stays in the keychain until {plan.exchange_name} rejects it; it will be deleted {how}.")
        if not _confirm("Start the rotation?", self.args.yes):
            self.say("Rotation not started; nothing changed. Confirm with --yes to start it.")
            return exitcodes.USAGE
        m.start(plan)
        return None

    async def new_key(self) -> int | None:
        from keyhygiene.core.rotation.states import Action
        from keyhygiene.service import exchange_info as catalog

        m = self.m
        creds = None
        if os.environ.get(ENV_KEY) is None and m.interrupted() is Action.STORE_PENDING:
            creds = m.pending_credentials()  # stored just before the interruption: do not ask again
        if creds is None:
            self.say(f"Create the new key on {m.exchange_name}, then paste it (input is hidden).")
            creds = read_credentials(m.key.exchange, catalog.needs_passphrase(m.key.exchange))
        await m.store_new_key(creds)
        self.say(f"New key {m.data['new']['fingerprint']} stored in the keychain as pending; "
                 f"the old key {m.key.fingerprint} stays current.")
        return None

    async def test_new(self) -> int | None:
        from keyhygiene.core.rotation.states import Verdict
        from keyhygiene.service import exchange_info as catalog

        m = self.m
        pending = m.pending_credentials()
        if os.environ.get(ENV_KEY) is not None and (pending is None or pending.api_key != os.environ[ENV_KEY]):
            # A different key in the environment on --resume replaces the pending one (e.g. a refused key).
            await m.store_new_key(read_credentials(m.key.exchange, catalog.needs_passphrase(m.key.exchange)))
            self.say(f"Pending key replaced by {m.data['new']['fingerprint']}.")
        report = await m.test_new_key()
        prof = report.profile or {}
        if prof and report.status == "ok":
            restricted = {True: "yes", False: "NO", None: "not reported"}[prof.get("ip_restricted")]
            self.say(f"New key {prof.get('key')}: permissions {', '.join(prof.get('permissions') or []) or 'none'}; "
                     f"IP restricted: {restricted}")
        for f in report.findings:
            self.say(f"  [{f['severity']}] {f['title']}")
        for w in report.warnings:
            self.say(f"  note: {w}")
        if report.verdict is Verdict.PASSED:
            self.say("The new key passed its test.")
            return None
        if report.verdict is Verdict.RISKY:
            for t in report.risk_texts:
                self.say(f"  RISK: {t}")
            if self.args.accept_risk:
                m.accept_risk()
                self.say("Risk accepted (--accept-risk).")
                return None
            self.say(f"Stopped. Create a safer key and resume with it in {ENV_KEY}, or accept the risk: "
                     f"keyhygiene rotate {m.key.id} --resume --accept-risk")
            return exitcodes.ROTATION_WAITING
        for r in report.refusals:
            self.say(f"  REFUSED: {r}")
        if report.verdict is Verdict.RETRY:
            self.say(f"The rotation is saved; try again with: keyhygiene rotate {m.key.id} --resume")
            return exitcodes.EXCHANGE
        self.say(f"The rotation is saved. Resume with the right key in {ENV_KEY}/_SECRET (or at the prompt): "
                 f"keyhygiene rotate {m.key.id} --resume")
        from keyhygiene.core.models import AUTH_REJECTIONS, Status

        # The exchange rejecting the key is exit 4; any other refusal (another account, an exchange KeyHygiene
        # cannot check) leaves the saved rotation waiting for another key: 5, never 2 (nothing to fix in options).
        return exitcodes.EXCHANGE if Status(report.status) in AUTH_REJECTIONS else exitcodes.ROTATION_WAITING

    async def consumers(self) -> int | None:
        m = self.m
        items = m.consumers()
        if not items:
            self.say("The old key was not recorded as shared with anyone.")
        for c in items:
            self.say(f"  [{'x' if c.done else ' '}] {c.name}: {c.instruction}")
        if self.args.yes:
            m.confirm_consumers(tick_all=True)
            self.say("All consumers confirmed (--yes).")
            return None
        for c in items:
            if not c.done:
                if not _confirm(f"Does {c.name} now use the new key?", False):
                    self.say(f"The rotation is saved; continue once done: keyhygiene rotate {m.key.id} --resume")
                    return exitcodes.ROTATION_WAITING
                m.tick_consumer(c.id)
        m.confirm_consumers()
        return None

    async def revoke(self) -> int | None:
        m = self.m
        use_api = False
        if m.revoke_method() == "api":
            use_api = _confirm(
                f"Delete the old key {m.key.fingerprint} on {m.exchange_name} through its API now? "
                "It stops working at once.", self.args.yes,
            )
        report = await m.revoke_old(use_api=use_api)
        if report.method == "api" and report.ok:
            self.say(f"{m.exchange_name} deleted the old key {report.old_fingerprint} through its API.")
        else:
            self.say(report.message)
        return None

    async def verify(self) -> int | None:
        m = self.m
        timeout = self.args.revoke_timeout
        self.say(f"Checking that {m.exchange_name} rejects the old key {m.key.fingerprint} "
                 f"(waiting up to {timeout:.0f} s)...")

        def on_attempt(a: Attempt) -> None:
            nxt = f"; next check in {max(1, round(a.next_in))} s" if a.next_in else ""
            self.say(f"  check {a.number}: {a.status}{nxt}")

        report = await m.verify_old_dead(timeout, on_attempt=on_attempt)
        self.say(report.explanation)
        if report.dead:
            return None
        if not report.both_rejected:
            self.say(f"Once the old key is deleted, finish with: keyhygiene rotate {m.key.id} --resume")
        return exitcodes.ROTATION_WAITING

    async def finish(self) -> int | None:
        m = self.m
        rot = await m.finish()
        self.say(f"Done. {m.key.id} ({m.key.label}) now holds the new key {rot.new_fingerprint}; the old key "
                 f"{rot.old_fingerprint} was rejected by {m.exchange_name} and its secret is deleted from the "
                 "keychain.")
        self.say(f"The new key starts unshared: record where you gave it with keyhygiene keys share {m.key.id} "
                 "SERVICE.")
        return None
