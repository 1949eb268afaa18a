"""``keyhygiene audit [--json] [--fail-on SEVERITY]``: inspect every stored key and judge it."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import TYPE_CHECKING

from keyhygiene import exitcodes
from keyhygiene.cliutil import add_fail_on, err, open_app, print_json, table_lines
from keyhygiene.core.severity import SEVERITIES

if TYPE_CHECKING:
    from keyhygiene.core.audit import AuditResult

WIDTH = 100


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "audit", parents=[common],
        help="check every stored key with its exchange and list what to fix",
        description="Ask each exchange about every stored key (concurrently, read-only calls only), save the results "
                    "and print findings with fixes, a score per key and overall.",
    )
    p.add_argument("--json", action="store_true", help="print the audit as one JSON document")
    add_fail_on(p)
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from keyhygiene.core.registry import load_registry

    with open_app(args, keychain=True) as app:  # exit 3 before anything else when the keychain cannot be used
        keys = app.list_keys()
        if keys and not args.json and sys.stderr.isatty():
            exchanges = len({k.exchange for k in keys})
            sys.stderr.write(f"Checking {len(keys)} key{'s' if len(keys) != 1 else ''} on {exchanges} "
                             f"exchange{'s' if exchanges != 1 else ''}…\n")
        result = app.audit(policy=app.load_policy(), registry=load_registry())
    for problem in result.errors:
        err(problem)
    if args.json:
        print_json(result.to_json())
    else:
        print(render_human(result))
    if args.fail_on and result.reaches(args.fail_on):
        return exitcodes.FINDINGS
    return exitcodes.OK


def _ip(v: bool | None) -> str:
    return "?" if v is None else ("yes" if v else "no")


def render_human(result: AuditResult) -> str:
    from keyhygiene.core.score import SCORE_FORMULA, grade
    from keyhygiene.core.timeutil import iso

    if not result.keys:
        return "No keys stored yet. Add one with: keyhygiene keys add --exchange ID --label TEXT"
    summary = result.summary()  # the window's header and `keyhygiene status` say the same
    out = [f"Audit of {len(result.keys)} key{'s' if len(result.keys) != 1 else ''} at {iso(result.generated_at)}: "
           f"overall score {result.score}/100 ({grade(result.score)}). {summary.headline}.", ""]
    rows: list[tuple[str, ...]] = [("ID", "EXCHANGE", "LABEL", "KEY", "STATUS", "PERMISSIONS", "IP", "SCORE", "WORST")]
    for k in result.keys:
        perms = ",".join(sorted(k.profile.permissions)) or "-"
        if k.profile.permissions_source == "declared":
            perms += " (declared)"
        elif k.profile.permissions_source == "unknown" and k.profile.status == "ok":
            perms += " (rest not said)"  # e.g. MEXC: the exchange does not say more, nothing was declared
        rows.append((k.key.id, k.key.exchange, k.key.label, k.profile.key or k.key.fingerprint,
                     str(k.profile.status.value if hasattr(k.profile.status, "value") else k.profile.status),
                     perms, _ip(k.profile.ip_restricted), str(k.score), k.worst.value if k.worst else "-"))
    out += table_lines(rows, 32)
    # Never split a URL or a command across lines: people copy them.
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="      ", subsequent_indent="      ",
                                break_on_hyphens=False, break_long_words=False)
    for k in result.keys:
        out += ["", f"{k.key.id}  {k.key.exchange}  {k.key.label}  (score {k.score})"]
        out += textwrap.wrap("What a holder could do: " + k.blast_radius, width=WIDTH, initial_indent="  ",
                             subsequent_indent="  ", break_on_hyphens=False)
        if not k.findings:
            out.append("  No findings.")
        for f in k.findings:
            out.append(f"  [{f.severity}] {f.title}")
            out += wrap.wrap(f.detail)
            out += wrap.wrap("Fix: " + f.fix)
    counts = result.counts()
    out += ["", "Findings: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)]
    if result.cancelled:
        out.append("The audit was cancelled: keys without an answer are judged on their last check.")
    out += textwrap.wrap("Score: " + SCORE_FORMULA, width=WIDTH)
    return "\n".join(out)
