"""Build KeyRecords, KeyProfiles and exposures for rule tests without a vault or an exchange."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import load_registry
from keyhygiene.core.rules import RuleContext, evaluate
from keyhygiene.core.severity import Severity

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LEAK_3COMMAS = date(2022, 12, 28)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def share(service: str, shared: date | None = None, revoked: date | None = None) -> Exposure:
    return Exposure(service=service, shared_at=shared, revoked_at=revoked)


def make_key(
    exchange: str = "binance",
    *,
    purpose: str = "bot",
    created: datetime | None = None,
    added: datetime | None = None,
    exposures: Iterable[Exposure] = (),
    declared: Sequence[str] | None = None,
    key_id: str = "k0000001",
) -> KeyRecord:
    added = added or ago(5)
    return KeyRecord(
        id=key_id, exchange=exchange, label="test key", purpose=purpose, fingerprint="abcd…wxyz",
        key_sha256="d" * 64, created_at=created, added_at=added, updated_at=added,
        declared_permissions=list(declared) if declared is not None else None, exposures=list(exposures),
    )


def make_profile(
    exchange: str = "binance",
    *,
    perms: Iterable[str] = ("read",),
    ip: bool | None = True,
    whitelist: Sequence[str] | None | str = "default",
    status: Status = Status.OK,
    created: datetime | None = None,
    source: str = "exchange",
    **kw: Any,
) -> KeyProfile:
    if whitelist == "default":
        # An IP-restricted key gets a whitelist; unrestricted or unreported ones none, unless a test says so.
        whitelist = ("203.0.113.7",) if ip is True else None
    return KeyProfile(
        exchange=exchange, key="abcd…wxyz", status=status, permissions=sorted(set(perms)), ip_restricted=ip,
        ip_whitelist=list(whitelist) if whitelist is not None else None, created_at=created,
        permissions_source=source, message=None if status is Status.OK else "test message", **kw,
    )


def run(
    key: KeyRecord,
    profile: KeyProfile | None,
    *,
    policy: Policy | None = None,
    context: RuleContext | None = None,
    now: datetime = NOW,
    registry: Any = None,
) -> list[Finding]:
    return evaluate(key, profile, policy=policy or Policy(), registry=registry or load_registry(), now=now,
                    context=context)


def of(findings: Iterable[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def one(findings: Iterable[Finding], rule: str) -> Finding:
    hits = of(findings, rule)
    assert len(hits) == 1, f"expected one {rule} finding, got {[(f.severity, f.title) for f in hits]}"
    return hits[0]


def worst(findings: Iterable[Finding]) -> Severity | None:
    sevs = [Severity(f.severity) for f in findings]
    return max(sevs, key=lambda s: s.rank) if sevs else None
