"""``keyhygiene status [--json] [--fail-on SEVERITY]``: the window's header and reminders, from stored results.

No exchange is asked and no secret is read: every key is judged on its latest recorded inspection (the last audit),
exactly as the window does before it audits (``core.assessment.assess_stored`` and ``summarize``).
"""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from keyhygiene import exitcodes
from keyhygiene.cliutil import open_vault, print_json
from keyhygiene.core.severity import SEVERITIES

if TYPE_CHECKING:
    from datetime import datetime

    from keyhygiene.core.assessment import KeyAssessment, Summary
    from keyhygiene.store.vault import Vault

WIDTH = 100


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status", parents=[common],
        help="the app's summary: score, keys needing attention, findings by severity, reminders (no exchange calls)",
        description="Judge every stored key on its last recorded inspection (no exchange is asked, the keychain is "
                    "not opened) and print what the window's header and reminder banner show.",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY", type=str.lower,
                   help=f"exit with code 1 when any finding is at least this severe ({', '.join(SEVERITIES)})")
    p.set_defaults(func=cmd_status)


def stored_assessments(vault: Vault, now: datetime | None = None) -> list[KeyAssessment]:
    """Every key judged on its latest recorded inspection (``core.assessment.assess_stored``), as the window
    judges them before it audits: what ``status`` summarises and ``keys list`` shows per key."""
    from functools import partial

    from keyhygiene.core.assessment import assess_stored
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.report.rotations import last_rotation_day
    from keyhygiene.core.timeutil import utcnow

    return assess_stored(vault.list_keys(), vault.repo.latest_inspections(),
                         history=vault.repo.inspection_history, last_rotation=partial(last_rotation_day, vault.db),
                         policy=Policy.load(vault.repo), registry=load_registry(), now=now or utcnow())


def stored_summary(vault: Vault, now: datetime | None = None) -> Summary:
    """The vault's summary from stored inspections: the window's header and banner, ``status``."""
    from keyhygiene.core.assessment import summarize

    return summarize(stored_assessments(vault, now))


def cmd_status(args: argparse.Namespace) -> int:
    vault = open_vault(args)  # stored results only: no keychain needed, as for `keys list`
    try:
        summary = stored_summary(vault)
    finally:
        vault.close()
    if args.json:
        print_json(summary.to_json())
    else:
        print(render_human(summary))
    if args.fail_on and summary.reaches(args.fail_on):
        return exitcodes.FINDINGS
    return exitcodes.OK


def render_human(summary: Summary) -> str:
    if not summary.keys:
        return "No keys yet. Add one with: keyhygiene keys add --exchange ID --label TEXT"
    out = [f"{summary.headline} \u00b7 score {summary.score}/100",
           "Findings: " + ", ".join(f"{summary.findings.get(s, 0)} {s}" for s in SEVERITIES)]
    if summary.reminders:
        out += ["", "Reminders:"]
        wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="  ", subsequent_indent="      ",
                                    break_on_hyphens=False, break_long_words=False)
        for r in summary.reminders:
            out += wrap.wrap(f"[{r.severity}] {r.key_id}  {r.text}")
    out += ["", "From the last recorded checks; `keyhygiene audit` asks the exchanges again."]
    return "\n".join(out)
