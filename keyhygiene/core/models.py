"""The data every layer shares. Plain dataclasses: no Qt, no ccxt, no keyring."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from keyhygiene.core.timeutil import iso, parse_iso

if TYPE_CHECKING:  # at run time they come from __getattr__ below, on first use
    from keyhygiene.core.credentials import Credentials as Credentials
    from keyhygiene.core.finding import Finding as Finding

log = logging.getLogger(__name__)


class Purpose(StrEnum):
    READ_ONLY = "read-only"
    TRADING = "trading"
    BOT = "bot"
    TAX = "tax"
    OTHER = "other"


PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)


class Status(StrEnum):
    """Outcome of asking the exchange about a key (DESIGN.md ``status``)."""

    OK = "ok"
    INVALID_KEY = "invalid_key"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PASSPHRASE = "invalid_passphrase"
    IP_NOT_ALLOWED = "ip_not_allowed"
    PERMISSION_DENIED = "permission_denied"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"
    CLOCK_SKEW = "clock_skew"
    UNREACHABLE = "unreachable"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


# Statuses meaning "the exchange refused this credential" (as opposed to "we could not ask").
AUTH_REJECTIONS: frozenset[Status] = frozenset(
    {
        Status.INVALID_KEY,
        Status.INVALID_SIGNATURE,
        Status.INVALID_PASSPHRASE,
        Status.IP_NOT_ALLOWED,
        Status.PERMISSION_DENIED,
        Status.REJECTED,
    }
)


@dataclass
class KeyProfile:
    """What the exchange says about one key: the ``inspect --json`` object (DESIGN.md)."""

    exchange: str
    key: str  # masked fingerprint
    status: Status = Status.OK
    message: str | None = None
    permissions: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    ip_restricted: bool | None = None
    ip_whitelist: list[str] | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    trade_expires_at: datetime | None = None
    is_master: bool | None = None
    third_party_link: str | None = None
    last_used_at: datetime | None = None
    # The exchange account (UID) the key belongs to, where the exchange says: lets a rotation refuse a new key
    # from another account. Not secret; not part of the contract's minimum.
    account_id: str | None = None
    # Not in the public contract's minimum, but useful: whether permissions came from the exchange
    # ("exchange") or were declared by the user for an exchange without a key-info endpoint ("declared").
    permissions_source: str = "exchange"
    notes: list[str] = field(default_factory=list)
    # What the exchange's answer says about the ACCOUNT rather than the key (MEXC's canTrade/canWithdraw/canDeposit
    # of GET /api/v3/account): shown to the user as account facts, never judged as the key's permissions.
    account_facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "exchange": self.exchange,
            "key": self.key,
            "status": Status(self.status).value,
            "permissions": sorted(set(self.permissions)),
            "other": sorted(set(self.other)),
            "ip_restricted": self.ip_restricted,
            "ip_whitelist": list(self.ip_whitelist) if self.ip_whitelist is not None else None,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "trade_expires_at": iso(self.trade_expires_at),
            "is_master": self.is_master,
            "third_party_link": self.third_party_link,
            "last_used_at": iso(self.last_used_at),
        }
        if self.status != Status.OK:
            d["message"] = self.message or "The exchange did not accept the request."
        d["permissions_source"] = self.permissions_source
        if self.account_id is not None:
            d["account_id"] = self.account_id
        if self.notes:
            d["notes"] = list(self.notes)
        if self.account_facts:
            d["account_facts"] = dict(self.account_facts)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> KeyProfile:
        return cls(
            exchange=d["exchange"],
            key=d.get("key", ""),
            status=Status(d.get("status", "ok")),
            message=d.get("message"),
            permissions=list(d.get("permissions") or []),
            other=list(d.get("other") or []),
            ip_restricted=d.get("ip_restricted"),
            ip_whitelist=d.get("ip_whitelist"),
            created_at=parse_iso(d.get("created_at")),
            expires_at=parse_iso(d.get("expires_at")),
            trade_expires_at=parse_iso(d.get("trade_expires_at")),
            is_master=d.get("is_master"),
            third_party_link=d.get("third_party_link"),
            last_used_at=parse_iso(d.get("last_used_at")),
            account_id=d.get("account_id"),
            permissions_source=d.get("permissions_source", "exchange"),
            notes=list(d.get("notes") or []),
            account_facts=dict(d.get("account_facts") or {}),
        )



def profile_from_text(text: str) -> KeyProfile | None:
    """A stored inspection (its JSON text) as a ``KeyProfile``; None when the row cannot be read. A damaged row
    (a hand-edited or half-restored database) must not stop the window or a command from listing every key: that
    key counts as not checked, and its next check stores a good row over it."""
    try:
        return KeyProfile.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # The type only: the text is the exchange's reply as stored, not something to copy into a log.
        log.warning("a stored inspection cannot be read (%s); its key counts as not checked until the next check",
                    type(exc).__name__)
        return None


_NOT_DECODED: Any = object()


class StoredProfile:
    """A ``KeyProfile`` as the vault keeps it (its JSON text), decoded the first time it is asked for, then kept
    (None, once, for a row that cannot be read: ``profile_from_text``).

    The window lists every key before its first frame but shows ~20 of them, and nothing before that frame reads a
    profile (the list sorts by findings, judged later): decoding 500 profiles there was ~3 % of the start-up's
    instructions (issue 21). Decoding twice, from two threads at once, gives equal profiles: no lock needed."""

    __slots__ = ("_text", "_profile")

    def __init__(self, text: str) -> None:
        self._text = text
        self._profile: KeyProfile | None = _NOT_DECODED

    def get(self) -> KeyProfile | None:
        if self._profile is _NOT_DECODED:
            self._profile = profile_from_text(self._text)
        return self._profile

    def __repr__(self) -> str:
        return "StoredProfile(not decoded)" if self._profile is _NOT_DECODED else "StoredProfile(decoded)"


def account_facts_text(facts: dict[str, Any]) -> str:
    """One line for every surface: ``canTrade: yes · canWithdraw: no · accountType: SPOT``."""
    parts = []
    for name, value in facts.items():
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value) or "none"
        else:
            shown = str(value)
        parts.append(f"{name}: {shown}")
    return " \u00b7 ".join(parts)


@dataclass
class Exposure:
    """A key given to a consumer: a registry service, a free-text service, or a local file."""

    service: str  # registry id (lowercase) or the user's free text, or "file:/path" for a local config
    shared_at: date | None = None
    revoked_at: date | None = None
    note: str | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "shared_at": self.shared_at.isoformat() if self.shared_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "note": self.note,
        }


@dataclass
class KeyRecord:
    """A stored key's non-secret metadata (the SQLite row plus its exposures)."""

    id: str
    exchange: str
    label: str
    purpose: str
    fingerprint: str
    key_sha256: str
    created_at: datetime | None  # when the key was made on the exchange (declared or reported)
    added_at: datetime
    updated_at: datetime
    state: str = "active"
    declared_permissions: list[str] | None = None
    note: str | None = None
    exposures: list[Exposure] = field(default_factory=list)
    # When a rotation last put a new key in this entry (the journal says; None: never rotated). Sharings that
    # ended by then held an earlier key, which the exchange has since rejected.
    rotated_at: datetime | None = None

    @property
    def shared_with(self) -> list[str]:
        """Services the key is currently given to (ended sharings stay in ``exposures``)."""
        return sorted({e.service for e in self.exposures if e.active})

    def held_current_key(self, e: Exposure) -> bool:
        """Whether this sharing ever held the key the entry holds now.

        A rotation ends the old key's sharings on its day and starts the kept consumers' sharings on that day, so
        a sharing that ended on or before the rotation day and began before it held only the old key: it stays in
        the history, but no finding, reminder or banner about the current key may name it.
        """
        if self.rotated_at is None or e.revoked_at is None:
            return True
        day = self.rotated_at.date()
        return e.revoked_at > day or (e.shared_at is not None and e.shared_at >= day)

    @property
    def current_exposures(self) -> list[Exposure]:
        """The sharings that concern the key held now (every one, for a key never rotated)."""
        return [e for e in self.exposures if self.held_current_key(e)]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "exchange": self.exchange,
            "label": self.label,
            "key": self.fingerprint,
            "purpose": self.purpose,
            "shared_with": self.shared_with,
            "created_at": iso(self.created_at),
            "added_at": iso(self.added_at),
            "state": self.state,
            "declared_permissions": self.declared_permissions,
            "exposures": [e.to_json() for e in self.exposures],
        }


def __getattr__(name: str) -> Any:
    """``Finding`` lives in core/finding.py and loads with the first judgement, not with every start of the window:
    a frozen dataclass costs ~5 M instructions to build (Python 3.11 compiles each generated method), and the first
    frame lists unjudged rows (issue 21). ``from keyhygiene.core.models import Finding`` works as before."""
    if name == "Finding":
        from keyhygiene.core.finding import Finding

        return Finding
    if name == "Credentials":  # the same for a key's secrets: the first frame reads none (core/credentials.py)
        from keyhygiene.core.credentials import Credentials

        return Credentials
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
