"""``keyhygiene keys add|list|remove|share|unshare``."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from keyhygiene import exitcodes
from keyhygiene.cliutil import open_app, print_json, read_credentials, table_lines
from keyhygiene.core.models import PURPOSES
from keyhygiene.core.timeutil import parse_day, utcnow
from keyhygiene.service.types import ServiceRef, ValidationError

if TYPE_CHECKING:
    from keyhygiene.service.app import App

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    keys = sub.add_parser("keys", parents=[common], help="list, add, remove and share stored keys")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    p = ksub.add_parser("list", parents=[common], help="list stored keys (masked)")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=cmd_list)

    p = ksub.add_parser(
        "add", parents=[common],
        help="store a key in the OS keychain (secrets from KEYHYGIENE_API_KEY/_SECRET/_PASSPHRASE or a prompt)",
    )
    p.add_argument("--exchange", required=True, metavar="ID", help="ccxt exchange id, e.g. binance")
    p.add_argument("--label", required=True, metavar="TEXT")
    p.add_argument("--purpose", choices=PURPOSES, default="other", type=str.lower)
    p.add_argument("--shared-with", action="append", default=[], metavar="SERVICE[@YYYY-MM-DD]",
                   help="a service the key was given to, with the day it was given (repeatable)")
    p.add_argument("--created", metavar="YYYY-MM-DD", help="when the key was created on the exchange")
    p.add_argument("--json", action="store_true", help="print the stored key as JSON")
    p.set_defaults(func=cmd_add)

    p = ksub.add_parser("remove", parents=[common], help="delete a key from the keychain and the vault")
    p.add_argument("key_id", metavar="KEY_ID")
    p.set_defaults(func=cmd_remove)

    p = ksub.add_parser("share", parents=[common], help="record that a key was given to a service")
    p.add_argument("key_id", metavar="KEY_ID")
    p.add_argument("service", metavar="SERVICE[@YYYY-MM-DD]")
    p.set_defaults(func=cmd_share)

    p = ksub.add_parser("unshare", parents=[common], help="record that a service no longer has a key")
    p.add_argument("key_id", metavar="KEY_ID")
    p.add_argument("service", metavar="SERVICE[@YYYY-MM-DD]", help="the day is when the sharing ended")
    p.set_defaults(func=cmd_unshare)


def cmd_list(args: argparse.Namespace) -> int:
    with open_app(args) as app:
        keys = app.list_keys()
        judged = _judged(app) if keys else {}
    if args.json:
        # Added to DESIGN.md's fields: the window's risk column (worst finding, score), from the stored checks.
        print_json([k.to_json() | judged.get(k.id, {}) for k in keys])
        return exitcodes.OK
    if not keys:
        print("No keys stored yet. Add one with: keyhygiene keys add --exchange ID --label TEXT")
        return exitcodes.OK
    rows = [("ID", "EXCHANGE", "LABEL", "KEY", "PURPOSE", "SHARED WITH", "CREATED", "RISK")]
    for k in keys:
        j = judged.get(k.id)
        risk = f"{j['worst_severity'] or 'clean'} {j['score']}" if j else "-"
        rows.append((k.id, k.exchange, k.label, k.fingerprint, k.purpose, ", ".join(k.shared_with) or "-",
                     k.created_at.date().isoformat() if k.created_at else "-", risk))
    for line in table_lines(rows, 40):
        print(line)
    return exitcodes.OK


def _judged(app: App) -> dict[str, dict[str, object]]:
    """Each key's worst severity and score as the window's table shows them (``status``'s assessments); empty
    when the rules cannot run (an unreadable registry): the list itself must still work."""
    try:
        assessed = app.stored_assessments()
    except Exception:
        log.exception("keys list: the keys could not be judged; listing them without a risk")
        return {}
    return {a.key.id: {"score": a.score, "worst_severity": a.worst.value if a.worst else None} for a in assessed}


def cmd_add(args: argparse.Namespace) -> int:
    from keyhygiene.core.validation import validate_metadata
    from keyhygiene.service import exchange_info

    # Everything typed on the command line is checked before the vault is opened or a secret is asked for.
    refs = [ServiceRef.parse(s) for s in args.shared_with]
    created = None
    if args.created:
        try:
            d = parse_day(args.created)
        except ValueError as exc:
            raise ValidationError("created", f"--created: {exc}") from None
        if d > utcnow().date():
            raise ValidationError("created", f"--created: {d} is in the future.")
        created = datetime(d.year, d.month, d.day, tzinfo=UTC)
    exchange, _label = validate_metadata(args.exchange, args.label, args.purpose, exchange_info)
    # keychain=True: exit 3 before prompting for secrets when no keychain can be used (one probe, not several:
    # each may be an unlock prompt)
    with open_app(args, keychain=True) as app:
        creds = read_credentials(exchange, exchange_info.needs_passphrase(exchange))
        rec = app.add_key(exchange, args.label, creds, purpose=args.purpose, shared_with=refs, created_at=created)
        backend = app.keychain_backend_name()
    if args.json:
        print_json(rec.to_json())
    else:
        print(f"Stored {rec.exchange} key {rec.fingerprint} as {rec.id} ({rec.label}) in {backend}.")
    return exitcodes.OK


def cmd_remove(args: argparse.Namespace) -> int:
    with open_app(args) as app:
        rec = app.remove_key(args.key_id)
    print(f"Removed {rec.id} ({rec.exchange} {rec.fingerprint}, {rec.label}) from the keychain and the vault.")
    print("The key still works on the exchange until you delete it there.")
    return exitcodes.OK


def cmd_share(args: argparse.Namespace) -> int:
    ref = ServiceRef.parse(args.service)
    with open_app(args) as app:
        rec = app.share(args.key_id, ref)
    print(f"{rec.id} is now recorded as shared with: {', '.join(rec.shared_with)}")
    return exitcodes.OK


def cmd_unshare(args: argparse.Namespace) -> int:
    ref = ServiceRef.parse(args.service)
    with open_app(args) as app:
        rec = app.unshare(args.key_id, ref)
    print(f"{rec.id} is now shared with: {', '.join(rec.shared_with) or 'no one'}")
    return exitcodes.OK
