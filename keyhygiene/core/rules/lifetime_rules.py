"""Rules about time: age against the policy, expiry of the key or its trading right, exchange lifetime rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from keyhygiene.core.models import Finding
from keyhygiene.core.rules import fixes
from keyhygiene.core.rules.base import Rule, days, exchange_name, finding, on_exchange_page
from keyhygiene.core.rules.exchange_lifetimes import rules_for
from keyhygiene.core.rules.facts import KeyFacts
from keyhygiene.core.severity import Severity

# Keys this many times past the maximum age are not "due", they are neglected.
NEGLECTED_FACTOR = 4


def _created_phrase(f: KeyFacts) -> str:
    assert f.created_at is not None
    day = f.created_at.date().isoformat()
    if f.created_origin == "exchange":
        return f"created on {day}, as {exchange_name(f)} reports"
    if f.created_origin == "declared":
        return f"created on {day}, as you entered it"
    return f"added to KeyHygiene on {day}; its creation date is unknown, so it may be older"


def too_old(f: KeyFacts) -> Iterator[Finding]:
    age = f.age_days()
    if age is None:
        return
    limit = f.policy.max_age_days
    evidence = {"age_days": age, "max_age_days": limit, "created_at": f.created_at, "origin": f.created_origin}
    if age > limit:
        severity = Severity.HIGH if age > NEGLECTED_FACTOR * limit else Severity.MEDIUM
        yield finding(
            "too_old", severity, f"Older than {days(limit)}",
            f"This key is {days(age)} old ({_created_phrase(f)}). Your policy replaces keys every {days(limit)}: "
            "the longer a key lives, the more copies of it exist in configs, backups and services, and the longer "
            "a leaked copy stays useful.",
            f"Rotate it: create a new key with the same or fewer permissions, move every consumer to it, then "
            f"delete this one ({fixes.rotate(f.key.id)}).",
            **evidence,
        )
    elif limit - age < f.policy.expiry_warning_days:
        left = limit - age
        when = "today" if left == 0 else f"in {days(left)}"
        yield finding(
            "too_old", Severity.INFO, f"Rotation due {when}",
            f"This key is {days(age)} old ({_created_phrase(f)}); your policy replaces keys every {days(limit)}.",
            f"Plan its rotation ({fixes.rotate(f.key.id)}).",
            **evidence,
        )


def _remaining(f: KeyFacts, at: datetime) -> tuple[timedelta, int]:
    return at - f.now, (at.date() - f.today).days


def expired(f: KeyFacts) -> Iterator[Finding]:
    if f.expires_at is not None and f.expires_at <= f.now:
        day = f.expires_at.date().isoformat()
        yield finding(
            "expired", Severity.MEDIUM, f"Key expired on {day}",
            f"{exchange_name(f)} reports that this key expired on {day}. Anything that still uses it fails.",
            f"If something still needs it, replace it ({fixes.rotate(f.key.id)}); if not, delete it "
            f"{on_exchange_page(f)} and remove it here ({fixes.remove(f.key.id)}).",
            expires_at=f.expires_at, what="key",
        )
    if f.trade_expires_at is not None and f.trade_expires_at <= f.now:
        day = f.trade_expires_at.date().isoformat()
        why = (" Binance does this 30 days after trading is enabled on a key without an IP whitelist."
               if f.key.exchange == "binance" else "")
        yield finding(
            "expired", Severity.LOW, f"Trading permission expired on {day}",
            f"{exchange_name(f)} switched off this key's trading permission on {day}; bots using it can no "
            f"longer place orders.{why}",
            f"If a bot still trades with this key, restrict the key to the bot's IP addresses "
            f"{on_exchange_page(f)} and enable trading again; IP-restricted keys keep it.",
            trade_expires_at=f.trade_expires_at, what="trade",
        )


def expiring(f: KeyFacts) -> Iterator[Finding]:
    window = timedelta(days=f.policy.expiry_warning_days)
    if f.expires_at is not None and f.now < f.expires_at:
        left, n = _remaining(f, f.expires_at)
        if left <= window:
            day = f.expires_at.date().isoformat()
            yield finding(
                "expiring", Severity.LOW, f"Key expires in {days(n)}" if n else "Key expires today",
                f"{exchange_name(f)} reports that this key expires on {day}. Everything that uses it will stop "
                "working then.",
                f"Replace it before {day} ({fixes.rotate(f.key.id)}), or restrict it to fixed IP addresses "
                f"{on_exchange_page(f)} if the exchange keeps IP-restricted keys alive.",
                expires_at=f.expires_at, what="key", days_left=n,
            )
    if f.trade_expires_at is not None and f.now < f.trade_expires_at:
        left, n = _remaining(f, f.trade_expires_at)
        if left <= window:
            day = f.trade_expires_at.date().isoformat()
            yield finding(
                "expiring", Severity.LOW,
                f"Trading permission expires in {days(n)}" if n else "Trading permission expires today",
                f"{exchange_name(f)} reports that this key's trading permission ends on {day}; bots using it will "
                "stop placing orders then.",
                f"If a bot trades with it, restrict the key to the bot's IP addresses {on_exchange_page(f)}; "
                "IP-restricted keys keep their trading permission.",
                trade_expires_at=f.trade_expires_at, what="trade", days_left=n,
            )


def inactivity_deletion(f: KeyFacts) -> Iterator[Finding]:
    name = exchange_name(f)
    for rule in rules_for(f.key.exchange):
        if not rule.applies(f):
            continue
        claim = "says it" if rule.verified else "reportedly"
        basis = f"Source: {rule.source}."
        if rule.kind == "inactivity":
            yield finding(
                "inactivity_deletion", Severity.INFO, f"{name} may delete this key after {days(rule.days)} unused",
                f"{name} {claim} {rule.what}. This key has no IP restriction, so the rule applies: it may stop "
                f"working if nothing uses it for {days(rule.days)}. {basis}",
                f"Restrict the key to the IP addresses that use it {on_exchange_page(f)}; that also keeps it alive.",
                exchange_rule=rule.what, days=rule.days, verified=rule.verified, source=rule.source,
            )
            continue
        if rule.days <= 0 or f.created_at is None or f.created_origin == "added":
            yield finding(
                "inactivity_deletion", Severity.INFO, f"{name} expires keys without an IP restriction",
                f"{name} {claim} {rule.what}. This key has no IP restriction, so it will expire. {basis}",
                f"Restrict the key to the IP addresses that use it {on_exchange_page(f)} so it stops expiring, or "
                "note when it was created to see the date here.",
                exchange_rule=rule.what, days=rule.days, verified=rule.verified, source=rule.source,
            )
            continue
        end = f.created_at + timedelta(days=rule.days)
        n = (end.date() - f.today).days
        if end <= f.now:
            title, severity = f"Should have expired on {end.date().isoformat()}", Severity.LOW
            tail = "It should already have expired; if it still works, the exchange did not apply its rule."
        elif n <= f.policy.expiry_warning_days:
            title, severity = f"Expires in {days(n)} ({name} rule)", Severity.LOW
            tail = f"It will stop working on {end.date().isoformat()}."
        else:
            title, severity = f"Expires on {end.date().isoformat()} ({name} rule)", Severity.INFO
            tail = f"It will stop working on {end.date().isoformat()}."
        yield finding(
            "inactivity_deletion", severity, title,
            f"{name} {claim} {rule.what}. This key has no IP restriction and was created on "
            f"{f.created_at.date().isoformat()}. {tail} {basis}",
            f"Replace it in time ({fixes.rotate(f.key.id)}) with a key restricted to the IP addresses that "
            "use it; such keys do not expire.",
            exchange_rule=rule.what, days=rule.days, verified=rule.verified, source=rule.source, expires_on=end,
        )


RULES: tuple[Rule, ...] = (
    Rule("too_old", "The key is older than the policy's maximum age (or its rotation is due soon).", too_old),
    Rule("expired", "The key, or its trading permission, has expired.", expired),
    Rule("expiring", "The key, or its trading permission, expires within the warning window.", expiring),
    Rule("inactivity_deletion", "An exchange rule deletes or expires this kind of key on its own.",
         inactivity_deletion),
)
