"""``keyhygiene report --format html|pdf|json|csv -o PATH [--refresh]``: write the hygiene report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from keyhygiene import exitcodes
from keyhygiene.cliutil import UsageError, err, open_app

if TYPE_CHECKING:
    from keyhygiene.core.report.model import Report

FORMATS = ("html", "pdf", "json", "csv")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "report", parents=[common],
        help="write a hygiene report (HTML with charts, PDF, JSON or CSV)",
        description="Write a report of every stored key: summary score, findings with fixes, exposures, rotation "
                    "history and the policy used. Keys appear masked; no secret is ever written. Without --refresh "
                    "the last audit's results are used and the report says how old they are.",
    )
    p.add_argument("--format", choices=FORMATS, help="report format (default: from the file name's extension)")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="where to write the report ('-' writes html, json or csv to standard output)")
    p.add_argument("--refresh", action="store_true",
                   help="audit every key first (read-only calls to the exchanges), then report")
    p.set_defaults(func=cmd_report)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = Path(args.output).suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix in FORMATS:
        return suffix
    raise UsageError(f"say which format to write with --format ({'|'.join(FORMATS)}): "
                     f"{args.output!r} does not end in one of them")


def cmd_report(args: argparse.Namespace) -> int:
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.report.output import ReportTargetError, check_target

    fmt = _format(args)
    to_stdout = args.output == "-"
    if to_stdout and fmt == "pdf":
        raise UsageError("a PDF report needs a file: give -o PATH")
    if not to_stdout:
        try:
            check_target(Path(args.output))  # before any audit or vault access: nothing done for nothing
        except ReportTargetError as exc:
            raise UsageError(f"cannot write the report to {args.output}: {exc}") from None
    with open_app(args) as app:
        policy = app.load_policy()
        registry = load_registry()
        if args.refresh:
            app.require_keychain()  # exit 3 before touching the network when the keychain cannot be used
            result = app.audit(policy=policy, registry=registry)
            for problem in result.errors:
                err(problem)
        report = app.build_report(policy=policy, registry=registry, refreshed=bool(args.refresh))

    if fmt == "pdf":
        return _write_pdf(report, Path(args.output))
    from keyhygiene.core.report.output import render_text, write_atomic

    text = render_text(report, fmt)
    if to_stdout:
        sys.stdout.write(text)
        sys.stdout.flush()
        return exitcodes.OK
    try:
        write_atomic(Path(args.output), text.encode("utf-8"), create_parents=False)
    except ReportTargetError as exc:
        raise UsageError(f"cannot write the report to {args.output}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot write the report to {args.output}: {exc.strerror or exc}") from None
    _done(report, fmt, Path(args.output))
    return exitcodes.OK


def _write_pdf(report: Report, path: Path) -> int:
    try:
        from keyhygiene.ui.report_pdf import ensure_gui_application, write_pdf
    except ImportError as exc:
        if "PySide6" in str(exc):
            err("the PDF report is drawn by Qt: pip install PySide6-Essentials")
            return exitcodes.USAGE
        raise
    ensure_gui_application()
    try:
        write_pdf(report, path)
    except OSError as exc:  # ReportTargetError included: the target changed since it was checked
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    _done(report, "pdf", path)
    return exitcodes.OK


def _done(report: Report, fmt: str, path: Path) -> None:
    from keyhygiene.core.report.html import freshness

    s = report.summary
    print(f"Wrote the {fmt.upper()} report of {s.key_count} key{'s' if s.key_count != 1 else ''} "
          f"(overall score {s.overall_score}/100) to {path}.")
    text, stale = freshness(report)
    if stale or not report.refreshed:
        print(text)
