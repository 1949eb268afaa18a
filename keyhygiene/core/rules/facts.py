"""What the rules know about one key, worked out once: effective permissions, IP restriction, age, consumers.

Rules never read a ``KeyProfile`` directly. They read ``KeyFacts``, which settles the questions every rule would
otherwise answer on its own (and differently): which permissions count when the exchange did not answer, which
creation date to trust, which exposures put the key on someone else's servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from keyhygiene.core.models import AUTH_REJECTIONS, Exposure, KeyProfile, KeyRecord, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS, TRADE_PERMISSIONS
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import FILE_PREFIX, Incident, Registry, Service
from keyhygiene.core.rules.exposure_window import Certainty, exposed_at


@dataclass(frozen=True)
class RuleContext:
    """What the rules cannot learn from one key's record and profile. One object serves a whole vault.

    ``plaintext_copies`` maps a key id *or* its ``key_sha256`` digest to files where the key was found in plaintext
    and not recorded on the key (a scan's fresh result; discovery computes the digest with ``masking.key_digest``).
    Copies a scan recorded are the key's own active ``file:`` exposures, read from the record itself, so every
    caller (audit, report, the window) sees them. ``last_good`` maps a key id to its latest successful inspection,
    used when today's inspection could not reach the exchange. ``rotated_on`` maps a key id to the day its last
    completed rotation finished: sharings that had ended by then were sharings of the replaced key.
    """

    plaintext_copies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    last_good: Mapping[str, tuple[datetime, KeyProfile]] = field(default_factory=dict)
    rotated_on: Mapping[str, date] = field(default_factory=dict)

    def copies_of(self, key: KeyRecord) -> list[str]:
        found = list(self.plaintext_copies.get(key.id, ())) + list(self.plaintext_copies.get(key.key_sha256, ()))
        found += [e.service[len(FILE_PREFIX):] for e in key.exposures if e.active and e.service.startswith(FILE_PREFIX)]
        return sorted(set(found))


Inspection = tuple[datetime, KeyProfile]
# ``Repository.inspection_history``: (key id, limit) -> that key's inspections, newest first.
InspectionHistory = Callable[[str, int], Iterable[Inspection]]
# key id -> the day its latest completed rotation finished, or None (``report.rotations.last_rotation_day``).
LastRotation = Callable[[str], date | None]

# How far back a failing key's last successful inspection is looked for. Audit, report and window all used 20;
# a key whose last 20 checks all failed is judged without its old permissions rather than on a stale answer.
LAST_GOOD_LOOKBACK = 20


def context_for(key_id: str, latest: KeyProfile | None, history: InspectionHistory,
                base: RuleContext | None = None, *, last_rotation: LastRotation | None = None) -> RuleContext:
    """``base`` (or an empty context) plus, when the key's latest inspection is not OK (or there is none), its
    latest successful one from ``history``: the rules then judge permissions on the last answer that worked;
    and, with ``last_rotation``, the day the key's last completed rotation finished.

    The one place audit, report and window build this, so the three judge a failing key the same way.
    ``build_facts`` decides whether the fallback applies (not for a key the exchange rejected)."""
    ctx = base if base is not None else RuleContext()
    rotated = last_rotation(key_id) if last_rotation is not None else None
    if rotated is not None:
        ctx = replace(ctx, rotated_on={**ctx.rotated_on, key_id: rotated})
    if latest is not None and latest.status == Status.OK:
        return ctx  # today's answer is the truth: no history query
    for at, prof in history(key_id, LAST_GOOD_LOOKBACK):
        if prof.status == Status.OK:
            return replace(ctx, last_good={**ctx.last_good, key_id: (at, prof)})
    return ctx


@dataclass(frozen=True)
class Consumer:
    """One exposure of the key, classified."""

    exposure: Exposure
    name: str  # as stored: registry id, free text, or file:/path
    display: str
    service: Service | None
    kind: str  # "third_party" | "self_hosted" | "file" | "none"

    @property
    def third_party(self) -> bool:
        return self.kind == "third_party"


def classify(exposure: Exposure, registry: Registry) -> Consumer:
    name = exposure.service
    if name.startswith(FILE_PREFIX):
        return Consumer(exposure, name, registry.display_name(name), None, "file")
    svc = registry.get(name)
    if svc is None:
        # A service the registry does not know: assume it keeps the key on its own servers.
        return Consumer(exposure, name, name, None, "third_party")
    kind = {"vendor": "third_party", "self_hosted": "self_hosted"}.get(svc.custody, "none")
    return Consumer(exposure, name, svc.name, svc, kind)


@dataclass(frozen=True)
class KeyFacts:
    key: KeyRecord
    profile: KeyProfile | None
    policy: Policy
    registry: Registry
    now: datetime
    context: RuleContext
    permissions: frozenset[str] | None  # None: nobody knows
    permissions_origin: str | None  # "exchange" | "declared" | "previous" | None
    permissions_as_of: datetime | None  # for "previous": when the exchange last said so
    ip_restricted: bool | None
    ip_whitelist: tuple[str, ...] | None
    expires_at: datetime | None
    trade_expires_at: datetime | None
    created_at: datetime | None
    created_origin: str  # "exchange" | "declared" | "added" (added = at least this old)
    consumers: tuple[Consumer, ...]  # every exposure, ended ones included

    # ---- status --------------------------------------------------------------------------------------------
    @property
    def status(self) -> Status | None:
        return Status(self.profile.status) if self.profile is not None else None

    @property
    def inspected_ok(self) -> bool:
        return self.status is Status.OK

    @property
    def rejected(self) -> bool:
        return self.status in AUTH_REJECTIONS

    @property
    def key_gone(self) -> bool:
        """The exchange says the key does not exist (any more)."""
        return self.status is Status.INVALID_KEY

    # ---- permissions ---------------------------------------------------------------------------------------
    def has(self, perm: str) -> bool:
        return self.permissions is not None and perm in self.permissions

    @property
    def can_trade(self) -> bool:
        return self.permissions is not None and bool(self.permissions & TRADE_PERMISSIONS)

    @property
    def can_withdraw(self) -> bool:
        return self.has("withdraw")

    @property
    def can_transfer(self) -> bool:
        return self.has("transfer")

    @property
    def transfer_separable(self) -> bool:
        """False when the exchange bundles transfers into the trade right this key holds."""
        from keyhygiene.core.rules.purposes import TRANSFER_BUNDLED_WITH_TRADE

        return not (self.key.exchange in TRANSFER_BUNDLED_WITH_TRADE and self.can_trade)

    @property
    def permissions_phrase(self) -> str:
        """"(as reported by Binance)" / "(as you declared them)" — how sure we are, for details."""
        if self.permissions_origin == "declared":
            return "as you declared them; the exchange does not report them"
        if self.permissions_origin == "previous" and self.permissions_as_of is not None:
            return f"as the exchange reported on {self.permissions_as_of.date().isoformat()}"
        return "as reported by the exchange"

    # ---- time ----------------------------------------------------------------------------------------------
    @property
    def today(self) -> date:
        return self.now.date()

    def age_days(self) -> int | None:
        if self.created_at is None:
            return None
        return max(0, (self.now - self.created_at).days)

    # ---- exposures -----------------------------------------------------------------------------------------
    @property
    def active_consumers(self) -> list[Consumer]:
        return [c for c in self.consumers if c.exposure.active]

    @property
    def active_third_parties(self) -> list[Consumer]:
        return [c for c in self.active_consumers if c.third_party]

    @property
    def known_creation_day(self) -> date | None:
        """The creation day as the exchange reports it or the user declared it; None when only the day it was added
        here is known: that is merely an upper bound, it rules nothing out."""
        if self.created_origin == "added" or self.created_at is None:
            return None
        return self.created_at.date()

    def exposed_at(self, c: Consumer, inc: Incident) -> Certainty | None:
        """Was this consumer holding this key when ``inc`` happened? ``exposure_window.exposed_at`` decides."""
        e = c.exposure
        return exposed_at(inc.first_day, inc.last_day, shared_at=e.shared_at, revoked_at=e.revoked_at,
                          created=self.known_creation_day, created_by_exchange=self.created_origin == "exchange",
                          rotated_on=self.context.rotated_on.get(self.key.id))


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


def _vocab(perms: Sequence[str]) -> frozenset[str]:
    return frozenset(p for p in perms if p in ALL_PERMISSIONS)


def build_facts(
    key: KeyRecord,
    profile: KeyProfile | None,
    *,
    policy: Policy,
    registry: Registry,
    now: datetime,
    context: RuleContext | None = None,
) -> KeyFacts:
    ctx = context or RuleContext()
    now = _aware(now) or now
    perms: frozenset[str] | None = None
    origin: str | None = None
    as_of: datetime | None = None
    ip_restricted: bool | None = None
    whitelist: tuple[str, ...] | None = None
    expires: datetime | None = None
    trade_expires: datetime | None = None

    source: KeyProfile | None = None
    if profile is not None and profile.status == Status.OK:
        source = profile
    elif profile is None or profile.status not in AUTH_REJECTIONS:
        # Could not ask today (unreachable, rate limited, …): the last answer still describes the key.
        # A rejected key is different: it may be gone, so yesterday's permissions would be a false alarm.
        last = ctx.last_good.get(key.id)
        if last is not None and last[1].status == Status.OK:
            source, as_of = last[1], _aware(last[0])

    if source is not None:
        src_kind = source.permissions_source
        if src_kind == "exchange":
            perms, origin = _vocab(source.permissions), ("previous" if as_of else "exchange")
        elif src_kind == "declared":
            perms, origin = _vocab(source.permissions), "declared"
        ip_restricted = source.ip_restricted
        whitelist = tuple(source.ip_whitelist) if source.ip_whitelist is not None else None
        if ip_restricted is None and whitelist:
            ip_restricted = True
        expires, trade_expires = _aware(source.expires_at), _aware(source.trade_expires_at)
    rejected = profile is not None and profile.status in AUTH_REJECTIONS
    if perms is None and key.declared_permissions is not None and not rejected:
        perms, origin, as_of = _vocab(key.declared_permissions), "declared", None

    created: datetime | None = None
    created_origin = "added"
    for candidate, label in (
        (profile.created_at if profile is not None else None, "exchange"),
        (source.created_at if source is not None else None, "exchange"),
        (key.created_at, "declared"),
    ):
        if candidate is not None:
            created, created_origin = _aware(candidate), label
            break
    if created is None:
        created = _aware(key.added_at)

    consumers = tuple(classify(e, registry) for e in key.exposures)
    return KeyFacts(
        key=key, profile=profile, policy=policy, registry=registry, now=now, context=ctx,
        permissions=perms, permissions_origin=origin, permissions_as_of=as_of,
        ip_restricted=ip_restricted, ip_whitelist=whitelist, expires_at=expires, trade_expires_at=trade_expires,
        created_at=created, created_origin=created_origin, consumers=consumers,
    )
