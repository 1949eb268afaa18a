"""Rules about who else holds the key: leaked and breached services, third parties, several consumers, copies
on disk, and third-party links the exchange itself reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from keyhygiene.core.models import Finding
from keyhygiene.core.registry import Incident, IncidentKind
from keyhygiene.core.rules import fixes
from keyhygiene.core.rules.base import Rule, exchange_name, finding, join_words, on_exchange_page
from keyhygiene.core.rules.facts import Consumer, KeyFacts
from keyhygiene.core.severity import Severity


def _rotate(f: KeyFacts) -> str:
    return fixes.rotate(f.key.id)


def _shared_before_creation(f: KeyFacts, c: Consumer) -> date | None:
    """The creation day when the recorded share date is earlier than it (one of the two dates is wrong)."""
    created = f.known_creation_day
    shared = c.exposure.shared_at
    return created if created is not None and shared is not None and shared < created else None


def _verified_note(inc: Incident) -> str:
    return "" if inc.verified else " (this incident is not verified)"


def _sources(inc: Incident) -> str:
    return "Sources: " + ", ".join(inc.sources[:3]) + "."


def _shared_phrase(c: Consumer) -> str:
    e = c.exposure
    when = f"on {e.shared_at.isoformat()}" if e.shared_at else "on a date you did not record"
    until = f" until {e.revoked_at.isoformat()}" if e.revoked_at else ""
    return f"You gave it to {c.display} {when}{until}."


def shared_with_leaked_service(f: KeyFacts) -> Iterator[Finding]:
    for c in f.consumers:
        if c.service is None:
            continue
        for inc in c.service.incidents_of(IncidentKind.KEY_LEAK):
            exposed = f.exposed_at(c, inc)
            if exposed is None:
                continue
            if exposed == "yes":
                severity = Severity.CRITICAL if inc.verified else Severity.HIGH
                title = f"Given to {c.display} before its key leak of {inc.when}"
                lead = "It was in their hands when their stored API keys leaked"
            else:
                existed = f.created_origin != "added" or (f.created_at is not None
                                                          and f.created_at.date() <= inc.last_day)
                severity = Severity.HIGH if existed else Severity.MEDIUM
                if not inc.verified:
                    severity = Severity.MEDIUM
                title = f"May have been in {c.display}'s key leak of {inc.when}"
                lead = "Without the date you shared it, KeyHygiene cannot rule out that it was in their hands when " \
                       "their stored API keys leaked"
            fix = (f"Delete this key now {on_exchange_page(f)}; if you still need one, create a new key "
                   f"restricted to the service's IP addresses ({_rotate(f)}). Check the account's trade history for "
                   "orders you did not place.")
            if exposed == "maybe":
                # The severity reflects the doubt; the fix says how to settle it either way.
                fix = (f"If you gave it to {c.display} on or before {inc.last_day.isoformat()}, or cannot tell: "
                       f"{fix[0].lower()}{fix[1:]} If you gave it later, it was not in that leak: note the day you "
                       "shared it, so the next check can tell.")
            yield finding(
                "shared_with_leaked_service", severity, title,
                f"{_shared_phrase(c)} {lead} ({inc.when}{_verified_note(inc)}): {inc.summary} "
                f"Anyone with a copy can use the key until it is deleted on the exchange. {_sources(inc)}",
                fix,
                service=c.name, incident=inc.id, shared_at=c.exposure.shared_at, revoked_at=c.exposure.revoked_at,
                certainty=exposed,
            )


_BREACH_SEVERITY: dict[str, Severity] = {
    IncidentKind.ACCOUNT_DATA_BREACH: Severity.MEDIUM,
    IncidentKind.WALLET_BREACH: Severity.MEDIUM,
    IncidentKind.PHISHING_CLONE: Severity.LOW,
}


def shared_with_breached_service(f: KeyFacts) -> Iterator[Finding]:
    for c in f.consumers:
        if c.service is None:
            continue
        for inc in c.service.incidents_of(*_BREACH_SEVERITY):
            if f.exposed_at(c, inc) is None:
                continue
            severity = _BREACH_SEVERITY[inc.kind]
            if inc.kind == IncidentKind.PHISHING_CLONE:
                advice = (f"Fake copies of the {c.display} website collected keys. If you ever entered this key on a "
                          f"site other than {c.service.website}, treat it as stolen.")
            else:
                advice = ("A breach at the vendor is not proof that keys leaked, but rotating keys given to a breached "
                          "vendor is the prudent response.")
            yield finding(
                "shared_with_breached_service", severity, f"{c.display} had {inc.kind_label} ({inc.when})",
                f"{_shared_phrase(c)} While it held the key, {c.display} had {inc.kind_label}"
                f"{_verified_note(inc)}: {inc.summary} {advice} {_sources(inc)}",
                f"Replace the key with a new one restricted to the service's IP addresses ({_rotate(f)}), and check "
                "the account's history for activity you do not recognise.",
                service=c.name, incident=inc.id,
            )


def shared_with_defunct_service(f: KeyFacts) -> Iterator[Finding]:
    for c in f.active_consumers:
        if c.service is None or not c.service.defunct:
            continue
        svc = c.service
        note = f" ({svc.status_note})" if svc.status_note else ""
        status = "no longer runs" if svc.status_verified else "is reported to no longer run"
        severity = Severity.HIGH if (f.can_trade or f.can_withdraw or f.can_transfer) else Severity.MEDIUM
        yield finding(
            "shared_with_defunct_service", severity, f"Given to {svc.name}, which {status}",
            f"{_shared_phrase(c)} {svc.name} {status}{note}. Nobody looks after the copy of the key it kept.",
            f"Delete this key on the exchange {on_exchange_page(f)} and record the end of the sharing "
            f"({fixes.unshare(f.key.id, svc.id, svc.name)}).",
            service=svc.id,
        )


def _third_party_severity(f: KeyFacts) -> Severity:
    if f.can_withdraw:
        return Severity.HIGH
    if f.can_trade or f.can_transfer or f.permissions is None:
        return Severity.MEDIUM
    return Severity.LOW


def shared_with_third_party(f: KeyFacts) -> Iterator[Finding]:
    for c in f.active_third_parties:
        svc = c.service
        bits = [_shared_phrase(c), "A copy of the key and its secret now lives on their servers, outside your "
                "control: it leaks if they leak."]
        created = _shared_before_creation(f, c)
        if created is not None:
            # No finding of its own: the dates only matter for incidents, which already count from the creation
            # day; saying so here lets the user correct whichever date is wrong.
            bits.append(f"That is before the key was created ({created.isoformat()}), so one of the two dates is "
                        "wrong: check them; incidents are counted from the creation date.")
        fix = [f"Keep the key's permissions to what {c.display} needs"]
        if svc is None:
            bits.append(f"{c.display} is not in KeyHygiene's service registry, so its incidents are not tracked.")
        else:
            bits.append(f"What {svc.name} ({svc.category_label}) needs: {svc.permission_detail}")
            # Sharing cannot start before the key exists (same reading as exposure_window): an incident between a
            # share date and a later creation date happened before the service could have had the key.
            since = created or c.exposure.shared_at
            earlier = [i for i in svc.incidents_of(IncidentKind.KEY_LEAK, IncidentKind.ACCOUNT_DATA_BREACH,
                                                   IncidentKind.WALLET_BREACH)
                       if since is not None and i.last_day < since]
            if earlier:
                bits.append("Before you shared it, " + svc.name + " had: "
                            + join_words(f"{i.kind_label} ({i.when})" for i in earlier) + ".")
            if svc.egress.published == "yes" and f.ip_restricted is not True:
                where = (svc.egress.where or "see its help pages").rstrip(".")
                fix.append(f"restrict the key to the IP addresses {svc.name} publishes ({where})")
            elif svc.egress.published == "discouraged":
                bits.append(f"{svc.name} asks for keys without IP restriction, so a leaked copy works from anywhere.")
        fix.append(f"record the end when you stop using it ({fixes.unshare(f.key.id, c.name, c.display)})")
        yield finding(
            "shared_with_third_party", _third_party_severity(f), f"Given to {c.display}",
            " ".join(bits), "; ".join(fix) + ".",
            service=c.name, shared_at=c.exposure.shared_at,
        )


def shared_with_several(f: KeyFacts) -> Iterator[Finding]:
    names = sorted({c.display for c in f.active_consumers})
    limit = f.policy.max_consumers
    if len(names) <= limit:
        return
    yield finding(
        "shared_with_several", Severity.MEDIUM, f"One key, {len(names)} consumers",
        f"This key is used by {join_words(names)}. When one of them leaks it you cannot tell which, and you "
        "cannot cut one off without breaking the others.",
        f"Give each consumer its own key with only the permissions it needs, then delete this one "
        f"({_rotate(f)}).",
        consumers=names, max_consumers=limit,
    )


def third_party_link(f: KeyFacts) -> Iterator[Finding]:
    link = f.profile.third_party_link if f.profile is not None and f.inspected_ok else None
    if not link:
        return
    recorded = f.active_consumers
    severity = Severity.MEDIUM if recorded else Severity.HIGH
    known = (f" You recorded: {join_words(c.display for c in recorded)}." if recorded
             else " You have not recorded giving it to anyone.")
    yield finding(
        "third_party_link", severity, "Connected to a third-party app",
        f"{exchange_name(f)} reports that this key is linked to a third-party application ({link}).{known}",
        f"Check which app holds it {on_exchange_page(f)}; if you do not use that app any more, delete the key. "
        f"Record the service here ({fixes.action('share', f.key.id)}).",
        link=link,
    )


def plaintext_copy(f: KeyFacts) -> Iterator[Finding]:
    paths = f.context.copies_of(f.key)
    if not paths:
        return
    shown = join_words(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    yield finding(
        "plaintext_copy", Severity.CRITICAL, "Plaintext copy on disk",
        f"The key and its secret were found unencrypted in {shown}. Any program or person that can read those files "
        "— malware, backups, a synced folder, a git repository — has the key.",
        f"Move the key into the keychain and remove the plaintext copy ({fixes.action('import')}), then rotate the key "
        f"({_rotate(f)}): copies in backups and git history stay readable.",
        paths=paths,
    )


RULES: tuple[Rule, ...] = (
    Rule("shared_with_leaked_service", "Given to a service that had an API-key leak while it held the key.",
         shared_with_leaked_service, about_exposure=True),
    Rule("shared_with_breached_service", "Given to a service that had another security incident while it held it.",
         shared_with_breached_service, about_exposure=True),
    Rule("shared_with_defunct_service", "Still given to a service that no longer runs.", shared_with_defunct_service,
         about_exposure=True),
    Rule("shared_with_third_party", "Given to a third-party service.", shared_with_third_party, about_exposure=True),
    Rule("shared_with_several", "One key used by several consumers.", shared_with_several, about_exposure=True),
    Rule("third_party_link", "The exchange reports the key is linked to a third-party app.", third_party_link),
    Rule("plaintext_copy", "The key was found in plaintext on disk.", plaintext_copy),
)
