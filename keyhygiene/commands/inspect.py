"""``keyhygiene inspect --exchange ID [--json]``: check one key without storing it."""

from __future__ import annotations

import argparse

from keyhygiene import exitcodes
from keyhygiene.cliutil import print_json, read_credentials
from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.models import KeyProfile, Status, account_facts_text
from keyhygiene.core.timeutil import iso


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "inspect", parents=[common],
        help="ask the exchange what one key can do, without storing it "
             "(credentials from KEYHYGIENE_API_KEY/_SECRET/_PASSPHRASE or a prompt)",
    )
    p.add_argument("--exchange", required=True, metavar="ID")
    p.add_argument("--json", action="store_true", help="print the profile as one JSON object")
    p.set_defaults(func=cmd_inspect)


def cmd_inspect(args: argparse.Namespace) -> int:
    from keyhygiene.core.validation import validate_credentials, validated_exchange
    from keyhygiene.service import exchange_info
    from keyhygiene.service.inspect import inspect

    exchange = validated_exchange(args.exchange, exchange_info)
    creds = read_credentials(exchange, exchange_info.needs_passphrase(exchange))
    # The checks `keys add` makes, before any request: a missing passphrase or a key pasted with spaces is the
    # user's mistake (exit 2 with the same message), not a key the exchange rejected (exit 4).
    validate_credentials(exchange, creds, exchange_info)
    # No vault: inspect stores nothing, and must not create a data folder.
    profile = inspect(exchange, creds, endpoints=args.endpoints)
    if args.json:
        print_json(profile.to_json())
    else:
        print(render_human(profile))
    return exitcodes.OK if profile.status is Status.OK else exitcodes.EXCHANGE


def _yn(v: bool | None) -> str:
    return "the exchange does not say" if v is None else ("yes" if v else "no")


def render_human(p: KeyProfile) -> str:
    lines = [f"{display_name(p.exchange)} key {p.key}: {p.status.value}"]
    if p.status is not Status.OK:
        lines.append(f"  {p.message}")
        return "\n".join(lines)
    perms = ", ".join(p.permissions) or "none reported"
    if p.permissions_source != "exchange":
        perms += f" ({p.permissions_source})"
    lines.append(f"  permissions:    {perms}")
    if p.other:
        lines.append(f"  other rights:   {', '.join(p.other)}")
    ip = _yn(p.ip_restricted)
    if p.ip_whitelist:
        ip += f" ({', '.join(p.ip_whitelist)})"
    lines.append(f"  IP restricted:  {ip}")
    for label, value in (("created", p.created_at), ("expires", p.expires_at),
                         ("trade expires", p.trade_expires_at), ("last used", p.last_used_at)):
        lines.append(f"  {label + ':':<15} {iso(value) or 'the exchange does not say'}")
    lines.append(f"  master account: {_yn(p.is_master)}")
    if p.third_party_link:
        lines.append(f"  third party:    {p.third_party_link}")
    if p.account_facts:
        lines.append(f"  account facts:  {account_facts_text(p.account_facts)} (of the account, not this key)")
    for n in p.notes:
        lines.append(f"  note: {n}")
    return "\n".join(lines)
