"""``keyhygiene doctor [--json] [--require-keychain] [--repair]``: which keychain backend is active, where data
lives, and whether the keychain and the database agree (``--repair`` resolves what does not, after asking).

Frozen apps can lose keyring's backends and fall back to its fail backend without a word; the packaged-app smoke
test runs this with ``--require-keychain`` so such a bundle fails loudly (exit 3) instead of shipping.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from keyhygiene import __version__, exitcodes, qtcheck
from keyhygiene.cliutil import print_json
from keyhygiene.paths import AppPaths, app_paths


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common], help="show the keychain backend and its state, and where data lives")
    p.add_argument("--json", action="store_true")
    p.add_argument("--require-keychain", action="store_true", help="exit 3 unless a real keychain is usable")
    p.add_argument("--repair", action="store_true",
                   help="for each disagreement between keychain and database, ask whether to adopt or remove it")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from keyhygiene.service import keychain

    paths = app_paths(getattr(args, "data_dir", None))
    # A probe namespace: doctor must work before (or without) a vault exists.
    status = keychain.probe("doctor")
    info = {
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "keychain": status.to_json(),
        "data_dir": str(paths.data_dir),
        "log_dir": str(paths.log_dir),
    }
    info["qt_platform"], qt_lines = qtcheck.doctor_section()  # can the window open: issue 19
    consistency, code = _consistency(args, paths, status.usable)
    info["consistency"] = consistency  # do keychain and database agree: issue 18
    if args.json:
        print_json(info)
    else:
        print(f"KeyHygiene {__version__}{' (bundled)' if info['frozen'] else ''}")
        print(f"keychain:  {status.state.value} — {status.backend}")
        if not status.usable:
            print(f"           {status.message}")
        print(f"data dir:  {paths.data_dir}")
        print(f"logs:      {paths.log_dir}")
        print(*qt_lines, sep="\n")
        _print_consistency(consistency)
    if args.require_keychain and not status.usable:
        return exitcodes.KEYCHAIN
    return code


# ---- keychain and database agree? (issue 18) ----------------------------------------------------------------
def _consistency(args: argparse.Namespace, paths: AppPaths, keychain_usable: bool) -> tuple[dict[str, Any], int]:
    """The reconciliation as JSON, and the exit code it calls for (6 when the database cannot be used)."""
    from keyhygiene.service.consistency import has_held_a_vault, open_vault, reconcile
    from keyhygiene.service.types import DatabaseError

    doc: dict[str, Any] = {"checked": False, "database": None, "listable": None, "findings": [], "repairs": []}
    if not keychain_usable:
        doc["database"] = None
        return doc, exitcodes.OK
    if not has_held_a_vault(paths):
        doc["checked"] = True
        return doc, exitcodes.OK  # no vault here yet: nothing to compare (and nothing is created)
    code = exitcodes.OK
    vault: Any = None
    if paths.database.exists() or args.repair:
        try:
            vault = open_vault(paths)
        except DatabaseError as exc:
            doc["database"] = str(exc)
            code = exitcodes.STORAGE
    elif not paths.database.exists():
        doc["database"] = (f"The database {paths.database} is missing, but this data folder has held a vault: "
                           "its keys are listed below; `keyhygiene doctor --repair` adopts them into a new one.")
    try:
        result = reconcile(paths, vault)
        doc.update(checked=True, listable=result.listable, findings=[f.to_json() for f in result.findings])
        if args.repair and vault is not None:
            doc["repairs"] = _repair(vault, result.findings, quiet=args.json)
            after = reconcile(paths, vault)
            doc["findings"] = [f.to_json() for f in after.findings]
    finally:
        if vault is not None:
            vault.close()
    return doc, code


def _repair(vault: Any, findings: list[Any], quiet: bool) -> list[dict[str, str]]:
    """Ask about each finding (one answer a line on stdin: adopt, remove or skip); nothing secret is shown."""
    from keyhygiene.cliutil import _ask, err
    from keyhygiene.service.consistency import repair

    done: list[dict[str, str]] = []
    for f in findings:
        choices = "/".join([*f.actions, "skip"])
        out = sys.stderr if quiet else sys.stdout
        print(f"{f.key_id}: {f.text}.", file=out, flush=True)
        answer = _ask(f"  {choices}? ", hidden=False).strip().lower()
        action = next((a for a in f.actions if answer and a.startswith(answer)), None)
        if action is None:
            done.append({"key_id": f.key_id, "action": "skip", "result": "left as it is"})
            continue
        exchange = None
        if action == "adopt" and f.kind == "orphaned_secret" and not f.exchange:
            exchange = _ask("  which exchange (ccxt id)? ", hidden=False).strip().lower() or None
        try:
            result = repair(vault, f, action, exchange=exchange)
        except (ValueError, LookupError) as exc:
            err(f"{f.key_id}: {exc}")
            result = f"not done: {exc}"
        print(f"  {result}", file=out, flush=True)
        done.append({"key_id": f.key_id, "action": action, "result": result})
    return done


def _print_consistency(doc: dict[str, Any]) -> None:
    if doc["database"]:
        print(f"database:  {doc['database']}")
    if not doc["checked"]:
        print("vault:     keychain and database not compared (the keychain is not usable)")
        return
    findings = doc["findings"]
    if not findings:
        print("vault:     keychain and database agree")
    else:
        print(f"vault:     {len(findings)} disagreement{'s' if len(findings) != 1 else ''} between keychain and "
              "database:")
        for f in findings:
            print(f"  {f['key_id']}: {f['text']}  -> {f['resolve']}")
    if doc["listable"] is False:
        print("           (this keychain cannot list its entries: only keys the database knows were checked)")
