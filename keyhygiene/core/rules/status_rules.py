"""Rules about the exchange's answer itself: rejected keys and keys that could not be checked."""

from __future__ import annotations

from collections.abc import Iterator

from keyhygiene.core.models import Finding, Status
from keyhygiene.core.rules import fixes
from keyhygiene.core.rules.base import Rule, exchange_name, finding, on_exchange_page
from keyhygiene.core.rules.facts import KeyFacts
from keyhygiene.core.severity import Severity


def _said(f: KeyFacts) -> str:
    msg = ((f.profile.message if f.profile is not None else None) or "").strip()
    if not msg:
        return ""
    return f" The exchange said: {msg}" + ("" if msg.endswith((".", "!", "?", ")")) else ".")


def key_rejected(f: KeyFacts) -> Iterator[Finding]:
    if not f.rejected:
        return
    name = exchange_name(f)
    status = f.status
    remove = fixes.remove(f.key.id)
    if status is Status.IP_NOT_ALLOWED:
        yield finding(
            "key_rejected", Severity.LOW, "Refused from this computer's IP address",
            f"{name} rejected the request because this computer's address is not on the key's IP whitelist. That "
            f"is the restriction doing its job, but KeyHygiene cannot read the key's permissions from here.{_said(f)}",
            "Run the audit from a whitelisted address, or add this computer's address to the key's whitelist "
            f"{on_exchange_page(f)} if that is acceptable for this key.",
            status=status.value,
        )
    elif status is Status.PERMISSION_DENIED:
        yield finding(
            "key_rejected", Severity.LOW, "Not allowed to describe itself",
            f"{name} accepted the key but refused the read-only call that describes it: the key lacks the read "
            f"permission that call needs.{_said(f)}",
            f"Enable read access for the key {on_exchange_page(f)} so its permissions can be checked.",
            status=status.value,
        )
    elif status is Status.INVALID_KEY:
        yield finding(
            "key_rejected", Severity.MEDIUM, "The exchange does not know this key",
            f"{name} says this key does not exist: it was deleted or revoked, or it belongs to another environment "
            f"(testnet, demo).{_said(f)} Anything that still uses it fails.",
            f"If you deleted it on purpose, remove it here ({remove}). If not, check {on_exchange_page(f)}: someone "
            "else may have deleted it.",
            status=status.value,
        )
    elif status in (Status.INVALID_SIGNATURE, Status.INVALID_PASSPHRASE):
        part = "passphrase" if status is Status.INVALID_PASSPHRASE else "secret"
        yield finding(
            "key_rejected", Severity.MEDIUM, f"The stored {part} is wrong",
            f"{name} knows the key but rejects the stored {part}.{_said(f)}",
            f"Store the key again with the right {part}: {remove}, then {fixes.action('add')}.",
            status=status.value,
        )
    else:
        yield finding(
            "key_rejected", Severity.MEDIUM, "Rejected by the exchange",
            f"{name} refused this key without saying why (deleted, wrong secret or passphrase, IP not allowed, or "
            f"missing permission).{_said(f)}",
            f"Check the key {on_exchange_page(f)}; if it no longer exists there, remove it here ({remove}).",
            status=status.value if status else None,
        )


def inspection_failed(f: KeyFacts) -> Iterator[Finding]:
    if f.profile is None:
        yield finding(
            "inspection_failed", Severity.INFO, "Not checked yet",
            "KeyHygiene has not asked the exchange about this key yet; the findings use what you recorded.",
            f"Run an audit ({fixes.action('audit')}).",
        )
        return
    if f.inspected_ok or f.rejected or f.status is Status.UNSUPPORTED:
        return
    used = (f" The findings use {exchange_name(f)}'s answer of {f.permissions_as_of.date().isoformat()}."
            if f.permissions_origin == "previous" and f.permissions_as_of else "")
    yield finding(
        "inspection_failed", Severity.INFO, "Could not check this key",
        f"The check ended with '{f.status.value if f.status else 'error'}'.{_said(f)}{used}",
        "Run the audit again later; if it keeps failing, check your connection and the computer's clock.",
        status=f.status.value if f.status else None,
    )


RULES: tuple[Rule, ...] = (
    Rule("key_rejected", "The exchange rejected the key.", key_rejected),
    Rule("inspection_failed", "The key could not be checked (network, rate limit, clock, error).",
         inspection_failed),
)
