"""``keyhygiene doctor [--json] [--require-keychain]``: which keychain backend is active, where data lives.

Frozen apps can lose keyring's backends and fall back to its fail backend without a word; the packaged-app smoke
test runs this with ``--require-keychain`` so such a bundle fails loudly (exit 3) instead of shipping.
"""

from __future__ import annotations

import argparse
import sys

from keyhygiene import __version__, exitcodes, qtcheck
from keyhygiene.cliutil import print_json
from keyhygiene.paths import app_paths


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common], help="show the keychain backend and its state, and where data lives")
    p.add_argument("--json", action="store_true")
    p.add_argument("--require-keychain", action="store_true", help="exit 3 unless a real keychain is usable")
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
    if args.require_keychain and not status.usable:
        return exitcodes.KEYCHAIN
    return exitcodes.OK
