"""What the window shows about one key: its metadata, latest inspection and findings, pre-formatted.

Plain Python (no Qt) so the table model, the detail pane, the charts and the reminders share one snapshot, and so
the formatting is unit-testable. Everything here is non-secret: the key appears only as its masked fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from keyhygiene.core import permissions
from keyhygiene.core.models import KeyProfile, KeyRecord, Status, StoredProfile
from keyhygiene.core.permissions import TRADE_PERMISSIONS
from keyhygiene.core.severity import Severity

if TYPE_CHECKING:
    from keyhygiene.core.assessment import KeyAssessment, Reminder
    from keyhygiene.core.finding import Finding  # built with the first judgement, after the first frame

# Per-key audit progress as the table shows it while an audit runs.
IDLE, QUEUED, CHECKING, DONE, FAILED = "idle", "queued", "checking", "done", "failed"

PERMISSION_ORDER = permissions.PERMISSION_ORDER  # one order for the window and the rotation's texts (core)

STATUS_LABELS: dict[str, str] = {
    "ok": "OK",
    "invalid_key": "Key rejected",
    "invalid_signature": "Bad signature",
    "invalid_passphrase": "Bad passphrase",
    "ip_not_allowed": "IP not allowed",
    "permission_denied": "Permission denied",
    "rejected": "Key rejected",  # one name for a rejection, whether or not the exchange says why (issue 20)
    "rate_limited": "Rate limited",
    "clock_skew": "Clock skew",
    "unreachable": "Unreachable",
    "unsupported": "Not supported",
    "error": "Error",
}


def permission_tone(perm: str) -> str:
    """Colour family of a permission chip: danger (moves money out), warn (trades), neutral (reads)."""
    if perm == "withdraw":
        return "danger"
    if perm == "transfer" or perm in TRADE_PERMISSIONS:
        return "warn"
    return "neutral"


def format_age(days: int | None) -> str:
    if days is None:
        return "unknown"
    if days < 1:
        return "today"
    if days < 60:
        return f"{days} d"
    if days < 730:
        return f"{days // 30} mo"
    return f"{days / 365:.1f} y"


def format_relative(then: datetime | None, now: datetime) -> str:
    """'3 min ago', 'in 12 d' — for last-checked and expiry columns."""
    if then is None:
        return "never"
    secs = (then - now).total_seconds()
    future = secs > 0
    s = abs(secs)
    if s < 60:
        return "just now"  # also for a moment "in the future": clocks of two threads, rounding
    if s < 3600:
        n, unit = round(s / 60), "min"
    elif s < 86400:
        n, unit = round(s / 3600), "h"
    elif s < 86400 * 60:
        n, unit = round(s / 86400), "d"
    elif s < 86400 * 730:
        n, unit = round(s / (86400 * 30)), "mo"
    else:
        n, unit = round(s / (86400 * 365)), "y"
    return f"in {n} {unit}" if future else f"{n} {unit} ago"


class _Profile:
    """``KeyRow.profile``: a ``KeyProfile`` (or None), or a ``StoredProfile`` decoded the first time the row's
    profile is read - the first frame's list builds every row and shows ~20 (issue 21). A dataclass field whose
    default is a descriptor: the generated ``__init__``, ``__eq__`` and ``__repr__`` go through it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, row: KeyRow | None, owner: type | None = None) -> KeyProfile | None:
        if row is None:
            return None  # the field's default
        value = row.__dict__[self._slot]
        if isinstance(value, StoredProfile):
            value = value.get()
            row.__dict__[self._slot] = value
        return value

    def __set__(self, row: KeyRow, value: KeyProfile | StoredProfile | None) -> None:
        row.__dict__[self._slot] = value


@dataclass
class KeyRow:
    record: KeyRecord
    profile: _Profile = _Profile()
    checked_at: datetime | None = None
    findings: list[Finding] = field(default_factory=list)
    score: int | None = None
    blast_radius: str = ""
    audit_state: str = IDLE
    audit_message: str = ""
    # The core's judgement the findings, score and blast radius above come from (None: not judged yet). The
    # sharings an incident touched and the reminders are read from it, never worked out here.
    assessment: KeyAssessment | None = None

    @property
    def incident_services(self) -> frozenset[str]:
        """Services (as stored) that held the key when one of their incidents happened, as the findings say."""
        return self.assessment.incident_services if self.assessment is not None else frozenset()

    @property
    def reminders(self) -> tuple[Reminder, ...]:
        return self.assessment.reminders if self.assessment is not None else ()

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def stored_profile(self) -> KeyProfile | StoredProfile | None:
        """The profile as held, without decoding it: for a worker that decodes it off the GUI thread."""
        value: KeyProfile | StoredProfile | None = self.__dict__["_profile"]
        return value

    # ---- permissions -------------------------------------------------------------------------------------
    @property
    def permissions(self) -> list[str] | None:
        """What the exchange reported, else what the user declared, else None (never checked)."""
        if self.profile is not None and self.profile.status == Status.OK:
            return sorted(set(self.profile.permissions), key=_perm_key)
        if self.record.declared_permissions is not None:
            return sorted(set(self.record.declared_permissions), key=_perm_key)
        return None

    @property
    def permissions_not_said(self) -> bool:
        """The exchange answered but does not say what the key may do (beyond what is listed) and nothing was
        declared: shown as "the exchange does not say", never as "none"."""
        return (self.profile is not None and self.profile.status == Status.OK
                and self.profile.permissions_source == "unknown")

    @property
    def permissions_declared(self) -> bool:
        if self.profile is not None and self.profile.status == Status.OK:
            return self.profile.permissions_source == "declared"
        return self.record.declared_permissions is not None

    # ---- restriction, dates ------------------------------------------------------------------------------
    @property
    def ip_text(self) -> str:
        p = self.profile
        if p is None or p.status != Status.OK:
            return "—"
        if p.ip_whitelist:
            n = len(p.ip_whitelist)
            return p.ip_whitelist[0] if n == 1 else f"{n} addresses"
        if p.ip_restricted is True:
            return "Restricted"
        if p.ip_restricted is False:
            return "None"
        return "Unknown"

    @property
    def ip_unrestricted(self) -> bool:
        p = self.profile
        return p is not None and p.status == Status.OK and p.ip_restricted is False

    @property
    def created_at(self) -> datetime | None:
        a = self.assessment
        if a is not None and a.created_origin != "added":  # the date the age rules counted from
            return a.created_at
        if self.profile is not None and self.profile.created_at is not None:
            return self.profile.created_at
        return self.record.created_at

    @property
    def created_origin(self) -> str:
        """Where ``created_at`` comes from: "exchange", "declared" or "" (unknown), as the age rules read it."""
        a = self.assessment
        if a is not None:
            return "" if a.created_origin == "added" else a.created_origin
        if self.profile is not None and self.profile.created_at is not None:
            return "exchange"
        return "declared" if self.record.created_at is not None else ""

    def age_days(self, now: datetime) -> int | None:
        c = self.created_at
        return None if c is None else max(0, (now - c).days)

    @property
    def expiry(self) -> datetime | None:
        """The earlier of the key's expiry and its trade permission's expiry."""
        p = self.profile
        if p is None:
            return None
        dates = [d for d in (p.expires_at, p.trade_expires_at) if d is not None]
        return min(dates) if dates else None

    # ---- risk ---------------------------------------------------------------------------------------------
    @property
    def worst_severity(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: Severity(s).rank)

    @property
    def severity_rank(self) -> int:
        """-1 when nothing was found (or rules unavailable), else 0 (info) … 4 (critical)."""
        w = self.worst_severity
        return -1 if w is None else Severity(w).rank

    def severity_of(self, *rules: str) -> str | None:
        """The worst severity among this key's findings of ``rules`` (None: no such finding)."""
        found = [f.severity for f in self.findings if f.rule in rules]
        return max(found, key=lambda s: Severity(s).rank) if found else None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def status(self) -> str | None:
        return None if self.profile is None else str(self.profile.status)

    @property
    def status_ok(self) -> bool:
        return self.profile is not None and self.profile.status == Status.OK

    @cached_property
    def search_text(self) -> str:
        """Everything the filter box matches against, lower-cased once."""
        r = self.record
        parts = [r.id, r.exchange, r.label, r.fingerprint, r.purpose, *r.shared_with, *(f.title for f in self.findings)]
        return " ".join(parts).lower()


def _perm_key(p: str) -> int:
    return PERMISSION_ORDER.index(p) if p in PERMISSION_ORDER else len(PERMISSION_ORDER)
