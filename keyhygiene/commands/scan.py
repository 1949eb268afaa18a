"""``keyhygiene scan [PATH...] [--json] [--import] [--clean FILE]... [--yes]``: find plaintext exchange keys."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyhygiene import exitcodes
from keyhygiene.cliutil import UsageError, err, open_app, print_json
from keyhygiene.core.plural import plural
from keyhygiene.core.timeutil import iso, utcnow

if TYPE_CHECKING:
    from keyhygiene.service.app import App

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "scan", parents=[common],
        help="find exchange keys stored in plaintext (bot configs, .env files) and import them",
        description=(
            "Scan folders for exchange API keys in bot configs (freqtrade, OctoBot, Gunbot, Hummingbot, ccxt "
            "keys.json), .env files and the Cryptohopper CLI login. Without PATH, scans the usual places in your "
            "home folder. Secrets are never printed: keys are shown masked."
        ),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to scan (recursively)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--import", dest="do_import", action="store_true",
                   help="store each key found in the keychain and record the file as a place it lives")
    p.add_argument("--clean", action="append", default=[], metavar="FILE",
                   help="remove the keys from FILE after a backup (freqtrade configs and .env files; repeatable)")
    p.add_argument("--yes", action="store_true", help="clean without asking for each file")
    p.add_argument("--max-size", type=_max_size, default=None, metavar="BYTES",
                   help="skip files larger than this (default 2 MiB; 1 byte to 1 GiB)")
    p.set_defaults(func=cmd_scan)


MAX_SIZE_LIMIT = 1024**3


def _max_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--max-size expects a number of bytes, got {text[:40]!r}") from None
    if not 1 <= value <= MAX_SIZE_LIMIT:
        raise argparse.ArgumentTypeError(f"--max-size must be between 1 and {MAX_SIZE_LIMIT} bytes (1 GiB)")
    return value


def cmd_scan(args: argparse.Namespace) -> int:
    from keyhygiene.core.discovery import WalkOptions, default_roots

    for raw in [*args.paths, *args.clean]:
        if not Path(raw).expanduser().exists():
            raise UsageError(f"{raw}: no such file or folder")
    app = open_app(args, keychain=args.do_import)
    try:
        if args.do_import:
            app.require_keychain()  # exit 3 before scanning when the keychain cannot take the keys
        options = WalkOptions()  # the app never scans its own data folder
        if args.max_size is not None:
            if args.max_size <= 0:
                raise UsageError("--max-size must be a positive number of bytes")
            options.max_file_bytes = args.max_size
        targets = list(args.paths) or list(args.clean)
        if not targets and not args.json:
            roots = ", ".join(str(r.path) for r in default_roots())
            print(f"Scanning the usual places: {roots}", file=sys.stderr)
        result = app.scan(targets or None, options=options)
        doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "generated_at": iso(utcnow()), **result.to_json()}
        code = exitcodes.OK
        if args.do_import:
            outcomes = app.import_found(result.found)
            ended = app.reconcile(result)
            doc["imported"] = [o.to_json() for o in outcomes]
            doc["no_longer_found"] = [{"key_id": k, "file": p} for k, p in ended]
            # import_found set in_vault on what it stored or matched
            doc["found"] = [f.to_json() for f in result.found]
        if args.clean:
            cleaned, failures = _clean(app, args)
            doc["cleaned"] = [c.to_json() for c in cleaned]
            doc["clean_errors"] = failures
            if failures:
                code = exitcodes.USAGE
        if args.json:
            print_json(doc)
        else:
            _print_human(doc, list_found=bool(args.paths) or not args.clean)
        return code
    finally:
        app.close()


def _clean(app: App, args: argparse.Namespace) -> tuple[list[Any], list[dict[str, str]]]:
    from keyhygiene.core.discovery import CleanupError

    cleaned = []
    failures: list[dict[str, str]] = []
    for raw in args.clean:
        path = str(Path(raw).expanduser().absolute())
        try:
            plan = app.plan_cleanup(path)
            cleaned.append(app.clean_file(plan, confirm=lambda pl: _confirm(pl, args.yes)))
        except CleanupError as exc:
            failures.append({"file": path, "error": str(exc)})
            err(str(exc))
    return cleaned, failures


def _confirm(plan: Any, yes: bool) -> bool:
    """Consent per file: --yes, or a "y" typed at a terminal. Piped input is not consent."""
    if yes:
        return True
    if sys.stdin is None or not sys.stdin.isatty():
        raise _not_interactive(plan)
    sys.stderr.write(
        f"\n{plan.describe()}\nA backup goes to the KeyHygiene data folder first. {plan.instructions}\n"
        "Clean this file? [y/N] "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _not_interactive(plan: Any) -> Exception:
    from keyhygiene.core.discovery import CleanupError

    return CleanupError(f"{plan.path} was left as it was: not a terminal to ask for consent; pass --yes to clean.")


def _print_human(doc: dict[str, Any], list_found: bool = True) -> None:
    stats = doc["stats"]
    print(f"Scanned {stats['files']:,} files in {stats['dirs']:,} folders ({stats['seconds']:.1f} s); "
          f"read {stats['parsed']:,} that could hold keys.")
    skipped = [f"{stats[k]:,} {label}" for k, label in (
        ("skipped_dirs", "folders skipped (virtualenvs, node_modules, .git, caches)"),
        ("skipped_large", "files too large"), ("skipped_binary", "binary files"),
        ("unreadable", "unreadable"), ("symlink_loops", "symlinks to folders already scanned"),
    ) if stats[k]]
    if skipped:
        print("Skipped: " + "; ".join(skipped) + ".")
    found = doc["found"] if list_found else []
    if not found and list_found:
        print("No exchange keys found in plaintext.")
    else:
        files = len({f["file"] for f in found})
        print(f"\nFound {len(found)} credential{'s' if len(found) != 1 else ''} in {files} file"
              f"{'s' if files != 1 else ''}:")
    for f in found:
        if f["protected"]:
            state = f"protected ({f['protection']})"
        elif f["in_vault"]:
            state = f"in vault as {f['in_vault']}"
        else:
            state = "NOT in vault" if f["kind"] == "exchange-key" else f["kind"]
        print(f"\n  {f['tool']} · {f['exchange']} · {f['key'] or '(key id not readable)'} · {state}")
        print(f"    {f['file']}")
        print(f"    fields: {', '.join(f['fields'])}")
        print(textwrap.fill(f["advice"], width=100, initial_indent="    ", subsequent_indent="    "))
    for o in doc.get("imported", []):
        print(f"import: {o['exchange']} {o['key'] or ''} from {o['file']}: {o['action']} — {o['message']}")
    for e in doc.get("no_longer_found", []):
        print(f"{e['key_id']} is no longer in {e['file']}: recorded as removed.")
    for c in doc.get("cleaned", []):
        print(f"\nCleaned {c['file']}: emptied {', '.join(c['cleared'])}.")
        print(f"  Backup (mode 0600): {c['backup']}")
        print(textwrap.fill(c["instructions"], width=100, initial_indent="  ", subsequent_indent="  "))
        print(textwrap.fill("WARNING: " + c["warning"], width=100, initial_indent="  ", subsequent_indent="  "))
    if found and not doc.get("imported") and any(f["importable"] and not f["in_vault"] for f in found):
        print("\nRun again with --import to store these keys in the OS keychain.")
    errors = doc.get("errors") or []
    if errors:
        print(f"\n{plural(len(errors), 'place')} could not be read, e.g. {errors[0]}", file=sys.stderr)
