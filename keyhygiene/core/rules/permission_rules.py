"""Rules about what the key may do: withdrawal, IP restriction, transfers, more than its purpose needs."""

from __future__ import annotations

from collections.abc import Iterator

from keyhygiene.core.models import Finding
from keyhygiene.core.permissions import TRADE_PERMISSIONS
from keyhygiene.core.rules import fixes
from keyhygiene.core.rules.base import (
    Rule,
    exchange_name,
    finding,
    join_words,
    on_exchange_page,
    permission_words,
)
from keyhygiene.core.rules.facts import Consumer, KeyFacts
from keyhygiene.core.rules.purposes import SERVICE_ALLOWS, purpose_allows
from keyhygiene.core.severity import Severity

PATTERN_3COMMAS = (
    "In the 3Commas leak of December 2022, keys that could only trade were used to buy illiquid coins at "
    "inflated prices from the attackers' own accounts; an IP whitelist would have blocked those orders."
)


def _ip_phrase(f: KeyFacts) -> str:
    if f.ip_restricted is True:
        n = len(f.ip_whitelist or ())
        return f"It only works from {n} whitelisted IP address{'es' if n != 1 else ''}." if n else \
            "It only works from whitelisted IP addresses."
    if f.ip_restricted is False:
        return "It works from any IP address."
    return f"{exchange_name(f)} does not say whether it is restricted to certain IP addresses."


def withdraw_enabled(f: KeyFacts) -> Iterator[Finding]:
    if not f.can_withdraw:
        return
    shared = f.active_third_parties
    severity = Severity.MEDIUM if f.ip_restricted is True and not shared else Severity.HIGH
    given = (f" It was given to {join_words(c.display for c in shared)}; no bot, copy-trading or tax service "
             "needs withdrawals.") if shared else ""
    yield finding(
        "withdraw_enabled", severity, "Withdrawals enabled",
        f"This key can withdraw funds from the account ({f.permissions_phrase}). {_ip_phrase(f)}{given}",
        f"Turn off withdrawals for this key {on_exchange_page(f)}, or replace it with a key that cannot "
        f"withdraw ({fixes.rotate(f.key.id)}). Keep withdrawals for a separate key that never leaves your "
        "hands, restricted to your own IP address.",
        ip_restricted=f.ip_restricted, shared_with=[c.name for c in shared],
    )


def _ip_advice(f: KeyFacts) -> str:
    """Where the user gets the addresses to whitelist: each consumer's published list, or their own server."""
    parts = []
    for c in f.active_consumers:
        svc = c.service
        if svc is None or c.kind == "file":
            continue
        eg = svc.egress
        if eg.published == "yes":
            where = (eg.where or "see its help pages").rstrip(".")
            ips = f" ({', '.join(eg.ips)})" if eg.ips else ""
            parts.append(f"{svc.name} publishes its addresses{ips}: {where}")
        elif eg.published == "discouraged":
            parts.append(f"{svc.name} asks for unrestricted keys; prefer a service that publishes its IPs")
        elif c.kind == "self_hosted":
            parts.append(f"{svc.name} runs on your own machine: whitelist that machine's address")
    return (" " + "; ".join(parts) + ".") if parts else ""


def no_ip_restriction(f: KeyFacts) -> Iterator[Finding]:
    if not (f.can_trade or f.can_withdraw):
        return
    fix = (f"Restrict the key to the IP addresses that use it {on_exchange_page(f)}.{_ip_advice(f)}")
    if f.ip_restricted is False:
        if f.can_withdraw:
            yield finding(
                "no_ip_restriction", Severity.CRITICAL, "Withdrawals allowed from any IP address",
                f"Anyone who holds this key and its secret can withdraw your funds from any computer "
                f"({f.permissions_phrase}).",
                fix + " Better still, turn off withdrawals for it.",
                ip_restricted=False, permissions=sorted(f.permissions or ()),
            )
        else:
            yield finding(
                "no_ip_restriction", Severity.HIGH, "Trading allowed from any IP address",
                f"Anyone who holds this key and its secret can trade with your balance from any computer "
                f"({f.permissions_phrase}). {PATTERN_3COMMAS}",
                fix, ip_restricted=False, permissions=sorted(f.permissions or ()),
            )
    elif f.ip_restricted is None:
        yield finding(
            "no_ip_restriction", Severity.INFO, "IP restriction not reported",
            f"This key can {'withdraw' if f.can_withdraw else 'trade'}, and {exchange_name(f)} does not say whether "
            "it is restricted to certain IP addresses.",
            f"Check {on_exchange_page(f)} that it is restricted to the addresses that use it.{_ip_advice(f)}",
            ip_restricted=None,
        )


def transfer_enabled(f: KeyFacts) -> Iterator[Finding]:
    if not f.can_transfer or not f.transfer_separable:
        return
    severity = Severity.MEDIUM if f.ip_restricted is False else Severity.LOW
    yield finding(
        "transfer_enabled", severity, "Transfers between accounts enabled",
        f"This key can move funds between your own accounts and sub-accounts ({f.permissions_phrase}). That cannot "
        "take funds off the exchange by itself, but it lets a thief move them to wherever another stolen key can "
        f"trade or withdraw them. {_ip_phrase(f)}",
        f"Turn off transfer permissions for this key {on_exchange_page(f)} unless something that uses it really "
        "moves funds between accounts.",
        ip_restricted=f.ip_restricted,
    )


def _allowed(f: KeyFacts) -> tuple[frozenset[str] | None, list[str]]:
    """What the key may hold given its purpose and the services it is given to, and why (for the detail)."""
    allowed = purpose_allows(f.key.purpose)
    reasons = []
    if allowed is not None:
        reasons.append(f"a {f.key.purpose} key needs only {permission_words(_summary(allowed))}")
    consumers: list[Consumer] = [c for c in f.active_consumers if c.service is not None]
    for c in consumers:
        assert c.service is not None
        need = SERVICE_ALLOWS[c.service.needs]
        allowed = need if allowed is None else allowed & need
        what = permission_words(_summary(need)) if need else "no key at all"
        reasons.append(f"{c.service.name} needs {'only ' if need else ''}{what}")
    return allowed, reasons


def _summary(perms: frozenset[str]) -> set[str]:
    """Collapse every trade kind into one word so sentences stay short."""
    out = {p for p in perms if p not in TRADE_PERMISSIONS}
    if perms & TRADE_PERMISSIONS:
        out.add("trading")
    return out


def excess_permission(f: KeyFacts) -> Iterator[Finding]:
    if f.permissions is None:
        return
    allowed, reasons = _allowed(f)
    if allowed is None:
        return
    excess = f.permissions - allowed
    if not f.transfer_separable:
        excess -= {"transfer"}
    if not excess:
        return
    if excess & (TRADE_PERMISSIONS | {"withdraw"}):
        severity = Severity.HIGH
    elif "transfer" in excess:
        severity = Severity.MEDIUM
    else:
        severity = Severity.LOW
    purpose_allowed = purpose_allows(f.key.purpose)
    if purpose_allowed is not None and excess - purpose_allowed:
        subject = f"a {f.key.purpose} key needs"
    else:
        names = sorted({c.service.name for c in f.active_consumers
                        if c.service is not None and excess - SERVICE_ALLOWS[c.service.needs]})
        subject = f"{join_words(names)} need{'s' if len(names) == 1 else ''}" if names else "its consumers need"
    yield finding(
        "excess_permission", severity, f"More permission than {subject}",
        f"This key can also do {permission_words(excess)} ({f.permissions_phrase}), but "
        f"{join_words(reasons)}. Every extra permission is something a thief could use.",
        f"Create a key with only {permission_words(_summary(allowed)) or 'read access'}, move its consumers to it and "
        f"delete this one ({fixes.rotate(f.key.id)}); or switch off {permission_words(excess)} "
        f"{on_exchange_page(f)}.",
        excess=sorted(excess), allowed=sorted(allowed), purpose=f.key.purpose,
    )


def permissions_unknown(f: KeyFacts) -> Iterator[Finding]:
    if f.permissions_origin == "declared":
        yield finding(
            "permissions_unknown", Severity.INFO, "Permissions as declared",
            f"{exchange_name(f)} cannot tell KeyHygiene what this key may do, so the rules use the permissions you "
            f"declared ({permission_words(f.permissions or ()) or 'none'}).",
            f"Compare them with the key's settings {on_exchange_page(f)} now and then.",
            declared=sorted(f.permissions or ()),
        )
    elif f.permissions is None and f.profile is not None and (f.inspected_ok or f.profile.status == "unsupported"):
        yield finding(
            "permissions_unknown", Severity.INFO, "Permissions unknown",
            f"{exchange_name(f)} has no call that describes a key, so KeyHygiene only checked that the key works. "
            "The rules about withdrawals, trading and IP restriction cannot judge it.",
            f"Check the key's permissions and IP restriction {on_exchange_page(f)}.",
        )


RULES: tuple[Rule, ...] = (
    Rule("withdraw_enabled", "The key can withdraw funds.", withdraw_enabled),
    Rule("no_ip_restriction", "The key can trade or withdraw and is not restricted to IP addresses.",
         no_ip_restriction),
    Rule("transfer_enabled", "The key can move funds between accounts.", transfer_enabled),
    Rule("excess_permission", "The key can do more than its purpose or its consumers need.", excess_permission),
    Rule("permissions_unknown", "The exchange does not report what the key may do.", permissions_unknown),
)
