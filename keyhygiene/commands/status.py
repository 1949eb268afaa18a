"""``keyhygiene status [--json] [--fail-on SEVERITY]``: the window's header and reminders, from stored results.

No exchange is asked and no secret is read: every key is judged on its latest recorded inspection (the last audit),
exactly as the window does before it audits (``core.assessment.assess_stored`` and ``summarize``).
"""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from keyhygiene import exitcodes
from keyhygiene.cliutil import add_fail_on, open_app, print_json
from keyhygiene.core.severity import SEVERITIES

if TYPE_CHECKING:
    from keyhygiene.core.assessment import Summary

WIDTH = 100


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status", parents=[common],
        help="the app's summary: score, keys needing attention, findings by severity, reminders (no exchange calls)",
        description="Judge every stored key on its last recorded inspection (no exchange is asked, the keychain is "
                    "not opened) and print what the window's header and reminder banner show.",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_fail_on(p)
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    with open_app(args) as app:  # stored results only: no keychain needed, as for `keys list`
        summary = app.stored_summary()
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
