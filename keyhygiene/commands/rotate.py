"""``keyhygiene rotate KEY_ID [--resume] [--yes] [--accept-risk] [--revoke-timeout SECONDS] [--keep SERVICE]...
[--stop SERVICE]...``.

The terminal face of the rotation flow (keyhygiene.core.rotation.flow): the same views and choices the wizard
renders, printed, with the choice a person must make taken from the options or asked. New credentials come from
KEYHYGIENE_API_KEY / _SECRET / _PASSPHRASE or a hidden prompt, never argv. Exit 0 when the rotation is complete; 5
whenever it ends saved and waiting (resume it later with ``--resume``: a refused or missing new key included); 4 when
the exchange rejected the new key or could not be reached; 2 only when nothing was saved (bad options, an unknown
key or consumer, an unconfirmed plan).
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
from keyhygiene.core.models import Credentials

if TYPE_CHECKING:
    from keyhygiene.core.rotation.flow import RotationFlow, View
    from keyhygiene.core.rotation.machine import Attempt

DEFAULT_REVOKE_TIMEOUT = 600.0
# Sections the terminal prints line by line with a marker scripts can look for (RISK:, REFUSED:).
_MARKED = frozenset({"Risks", "This key cannot be used"})


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "rotate", parents=[common],
        help="replace a key with a new one, step by step and crash-safe (new secrets from KEYHYGIENE_API_KEY/"
             "_SECRET/_PASSPHRASE or a prompt)",
        description="Rotate a stored key: plan (keep or stop each consumer of the old key), paste the new key "
                    "or generate its key pair here (kept as pending in the keychain), test it, update the kept "
                    "consumers and remove the stopped ones' access, delete the old key on the exchange, check the "
                    "exchange rejects it, then make the new key current. Every step is saved; --resume continues "
                    "where it stopped.",
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
    p.add_argument("--generate-keypair", choices=("ed25519", "rsa"), metavar="ed25519|rsa",
                   help="generate the new key's key pair here (Binance: ed25519 or rsa; Bybit: rsa): the private key "
                        "goes straight into the keychain, the public key is printed to register on the exchange's "
                        "API page, then the API key it returns is read from KEYHYGIENE_API_KEY or a hidden prompt")
    p.add_argument("--keep", action="append", default=[], metavar="SERVICE",
                   help="a consumer of the old key that gets the new key (repeatable; registry id, name or file:PATH)")
    p.add_argument("--stop", action="append", default=[], metavar="SERVICE",
                   help="a consumer of the old key that does not get the new key: you remove its access "
                        "(repeatable). Default: stop for a service that leaked keys after you gave it this key, "
                        "keep otherwise; --yes takes the defaults")
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
    from keyhygiene.core.rotation.machine import RotationError
    from keyhygiene.core.validation import ValidationError
    from keyhygiene.service.rotation_session import open_flow

    both = {s.strip().lower() for s in args.keep} & {s.strip().lower() for s in args.stop}
    if both:
        raise UsageError(f"{', '.join(sorted(both))}: both --keep and --stop; choose one for each consumer.")
    vault = open_vault(args, keychain=True)
    try:
        vault.secrets.require()  # exit 3 before anything else
        flow = open_flow(vault, args.key_id, endpoints=args.endpoints, verify_timeout=args.revoke_timeout)
        rot = flow.m.rotation
        if rot is not None and not args.resume:
            raise UsageError(
                f"Key {args.key_id} has a rotation in progress (at '{rot.state.value}'): continue it with "
                f"keyhygiene rotate {args.key_id} --resume"
            )
        if rot is None and args.resume:
            raise UsageError(f"Key {args.key_id} has no rotation in progress: start one without --resume.")
        kind = getattr(args, "generate_keypair", None)
        if kind and kind not in flow.m.keypair_kinds():
            offered = ", ".join(flow.m.keypair_kinds()) or "none"
            raise UsageError(f"--generate-keypair {kind}: {flow.m.exchange_name} keys cannot use a {kind} key pair "
                             f"made here (possible: {offered}).")
        term = TerminalRotation(flow, args)
        try:
            return asyncio.run(term.run())
        except (RotationError, ValidationError) as exc:
            # A ValidationError here is a refused paste (no key given, the old key again, a malformed key). Once
            # the rotation is saved the command ends with it waiting (5) and says how to go on; before that it is a
            # usage error (2).
            _say(f"keyhygiene: {exc}", sys.stderr)
            if flow.m.rotation is None:
                return exitcodes.USAGE
            how = (f" with the new key in {ENV_KEY}/_SECRET (or typed at a terminal's prompt)"
                   if isinstance(exc, ValidationError) else "")
            _say(f"The rotation is saved; continue it{how}: keyhygiene rotate {args.key_id} --resume", sys.stderr)
            return exitcodes.ROTATION_WAITING
        except KeyboardInterrupt:
            if flow.m.rotation is not None:
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
    """Prints the flow's view of each step and runs the choice the options (or the person) make, until the rotation
    is done or has to wait for the user. No step logic of its own: the flow says what each step offers."""

    def __init__(self, flow: RotationFlow, args: argparse.Namespace, say: Callable[[str], None] = _say) -> None:
        self.flow = flow
        self.m = flow.m
        self.args = args
        self.say = say
        flow.on_attempt = self._attempt

    def _attempt(self, a: Attempt) -> None:
        self.say(f"  {a.text}")

    def show(self, v: View) -> None:
        for line in v.text:
            self.say(line)

    async def run(self) -> int:
        from keyhygiene.core.rotation.states import TERMINAL, TITLES

        flow = self.flow
        if self.m.rotation is not None:
            cut = flow.interrupted
            note = f" (the step '{cut.value}' was interrupted and is repeated safely)" if cut else ""
            self.say(f"Resuming the rotation of {self.m.key.id} ({self.m.key.label}) at: {TITLES[flow.step]}{note}.")
        await self.apply_decisions()
        while flow.step not in TERMINAL:
            v = flow.view()
            n, total = v.position
            self.say(f"\n[{n}/{total}] {v.title}")
            code = await getattr(self, f"on_{v.page}")(v)
            if code is not None:
                return code
        return exitcodes.OK

    # ---- decisions: --keep / --stop -------------------------------------------------------------------------
    def _wanted(self) -> dict[str, bool]:
        out = {name: True for name in self.args.keep}
        out.update({name: False for name in self.args.stop})
        return out

    async def apply_decisions(self) -> None:
        """--keep/--stop on the consumers the plan (or the saved rotation) lists; an unknown one is a usage error
        before anything is saved."""
        from keyhygiene.core.rotation.flow import Inputs
        from keyhygiene.core.rotation.machine import find_consumer
        from keyhygiene.core.rotation.states import Step

        wanted = self._wanted()
        if not wanted or (self.flow.step is Step.PLAN and self.flow.plan is None):
            return  # before the plan is loaded: applied once it is
        if not self.flow.decisions_open:
            self.say("note: --keep/--stop are ignored: the consumers step of this rotation is already confirmed.")
            return
        items = self.flow.consumers()
        decisions: dict[str, bool] = {}
        for name, keep in wanted.items():
            c = find_consumer(items, name)
            if c is None:
                known = ", ".join(f"{x.id} ({x.name})" if x.id != x.name else x.id for x in items) or "none"
                raise UsageError(f"{name!r} is not a consumer of key {self.m.key.id} (its consumers: {known}).")
            decisions[c.id] = keep
        await self.flow.run("decide", Inputs(decisions=decisions))

    # ---- pages: each returns None to go on, or the exit code to stop with --------------------------------
    async def on_plan(self, v: View) -> int | None:
        if v.auto is not None:
            await self.flow.run(v.auto.choice)
            await self.apply_decisions()
            v = self.flow.view()
        self.show(v)
        start = v.choice("start")
        assert start is not None and start.confirm
        if not _confirm(start.confirm, self.args.yes):
            self.say("Rotation not started; nothing changed. Confirm with --yes to start it.")
            return exitcodes.USAGE
        await self.flow.run("start")
        return None

    async def on_new_key(self, v: View) -> int | None:
        from keyhygiene.core.rotation.flow import Inputs
        from keyhygiene.core.rotation.states import Action

        m = self.m
        kind = getattr(self.args, "generate_keypair", None)
        if m.keypair_waiting() is None and kind:
            await self.flow.run("generate_keypair", Inputs(kind=kind))
        if m.keypair_waiting() is not None:
            return await self.keypair_api_key()
        creds = None
        if os.environ.get(ENV_KEY) is None and self.flow.interrupted is Action.STORE_PENDING:
            creds = await asyncio.to_thread(m.pending_credentials)  # stored just before the interruption
        if creds is None:
            self.say(v.intro + " (input is hidden)")
            creds = read_credentials(m.key.exchange, m.ops.needs_passphrase(m.key.exchange))
        await self.flow.run("store", Inputs(credentials=creds))
        self.say(f"New key {m.data['new']['fingerprint']} stored in the keychain as pending; "
                 f"the old key {m.key.fingerprint} stays current.")
        return await self.tested()

    async def keypair_api_key(self) -> int | None:
        """A key pair generated here waits for its API key: print the public key (PEM, on stdout) and read the API
        key the exchange returned from KEYHYGIENE_API_KEY or a hidden prompt. No secret is asked for."""
        from keyhygiene.core.rotation.flow import Inputs

        m, flow = self.m, self.flow
        if flow.public_pem is None:
            await flow.run("show_public_key")
        v = flow.view()
        self.say(v.intro)
        for link in v.links:
            self.say(f"{link.label}: {link.url}")
        sys.stdout.write((flow.public_pem or "").strip() + "\n")  # the PEM block as is: scripts can cut it out
        sys.stdout.flush()
        api_key = os.environ.get(ENV_KEY)
        if api_key is None:
            api_key = _ask(f"{m.exchange_name} API key for this public key: ")
        if not api_key.strip():
            self.say(f"The rotation is saved. Once {m.exchange_name} shows the API key for this public key, "
                     f"continue with it in {ENV_KEY} (or at the prompt): keyhygiene rotate {m.key.id} --resume")
            return exitcodes.ROTATION_WAITING
        await flow.run("store_api_key", Inputs(credentials=Credentials(api_key=api_key.strip(), secret="")))
        self.say(f"New key {m.data['new']['fingerprint']} ({m.keypair_label()}) stored in the keychain as pending; "
                 f"the old key {m.key.fingerprint} stays current.")
        return await self.tested()

    async def on_test(self, v: View) -> int | None:
        from keyhygiene.core.rotation.flow import Inputs

        m = self.m
        pending = await asyncio.to_thread(m.pending_credentials)
        if os.environ.get(ENV_KEY) is not None and (pending is None or pending.api_key != os.environ[ENV_KEY]):
            # A different key in the environment on --resume replaces the pending one (e.g. a refused key).
            creds = read_credentials(m.key.exchange, m.ops.needs_passphrase(m.key.exchange))
            await self.flow.run("replace")
            await self.flow.run("store", Inputs(credentials=creds))
            self.say(f"Pending key replaced by {m.data['new']['fingerprint']}.")
        elif v.report is None or v.choice("test") is not None:
            await self.flow.run("test")
        return await self.tested()

    async def tested(self) -> int | None:
        from keyhygiene.core.models import AUTH_REJECTIONS, Status
        from keyhygiene.core.rotation.flow import Inputs
        from keyhygiene.core.rotation.states import Step, Verdict

        flow, m = self.flow, self.m
        report = m.test_report()
        if report is None:
            return None
        if flow.step is Step.TEST_NEW:  # refused or risky: say why before the exit code
            v = flow.view()
            v.sections = [sec for sec in v.sections if sec.title not in _MARKED]
            self.show(v)
            for t in report.risk_texts:
                self.say(f"  RISK: {t}")
            for r in report.refusals:
                self.say(f"  REFUSED: {r}")
        if report.verdict is Verdict.PASSED:
            self.say("The new key passed its test.")
            return None
        if report.verdict is Verdict.RISKY:
            if self.args.accept_risk:
                await flow.run("accept_risk", Inputs(accept=True))
                self.say("Risk accepted (--accept-risk).")
                return None
            self.say(f"Stopped. Create a safer key and resume with it in {ENV_KEY}, or accept the risk: "
                     f"keyhygiene rotate {m.key.id} --resume --accept-risk")
            return exitcodes.ROTATION_WAITING
        if report.verdict is Verdict.RETRY:
            self.say(f"The rotation is saved; try again with: keyhygiene rotate {m.key.id} --resume")
            return exitcodes.EXCHANGE
        self.say(f"The rotation is saved. Resume with the right key in {ENV_KEY}/_SECRET (or at the prompt): "
                 f"keyhygiene rotate {m.key.id} --resume")
        # The exchange rejecting the key is exit 4; any other refusal (another account, an exchange KeyHygiene
        # cannot check) leaves the saved rotation waiting for another key: 5, never 2 (nothing to fix in options).
        return exitcodes.EXCHANGE if Status(report.status) in AUTH_REJECTIONS else exitcodes.ROTATION_WAITING

    async def on_consumers(self, v: View) -> int | None:
        from keyhygiene.core.rotation.flow import Inputs

        self.show(v)
        ticks = {c.id: True for c in v.consumers}
        confirm = v.choice("confirm")
        assert confirm is not None
        if v.consumers and not self.args.yes:
            for c in v.consumers:
                if not c.done and not _confirm(f"Done: {c.check_label}?", False):
                    self.say(f"The rotation is saved; continue once done: keyhygiene rotate {self.m.key.id} --resume")
                    return exitcodes.ROTATION_WAITING
        elif v.consumers:
            self.say("Every line confirmed (--yes).")
        await self.flow.run("confirm", Inputs(ticks=ticks))
        return None

    async def on_revoke(self, v: View) -> int | None:
        self.show(v)
        api = v.choice("revoke_api")
        use_api = api is not None and api.confirm is not None and _confirm(api.confirm, self.args.yes)
        await self.flow.run("revoke_api" if use_api else "revoke_manual")
        report = self.flow.revoke
        assert report is not None
        if report.method == "api" and report.ok:
            self.say(f"{self.m.exchange_name} deleted the old key {report.old_fingerprint} through its API.")
        else:
            self.say(report.message)
        return None

    async def on_verify(self, v: View) -> int | None:
        from keyhygiene.core.rotation.flow import Outcome

        self.say(f"Checking that {self.m.exchange_name} rejects the old key {self.m.key.fingerprint} "
                 f"(waiting up to {self.flow.verify_timeout:.0f} s)...")
        outcome = await self.flow.run("verify")
        report = self.flow.verify
        assert report is not None
        self.say(report.explanation)
        if outcome is Outcome.MOVED:
            return None
        if not report.both_rejected:
            self.say(f"Once the old key is deleted, finish with: keyhygiene rotate {self.m.key.id} --resume")
        return exitcodes.ROTATION_WAITING

    async def on_done(self, v: View) -> int | None:
        await self.flow.run("finish")
        self.say("Done. " + self.flow.view().intro)
        return None
