"""The rotation's pure judgements: consumers, suggested permissions, the new key's verdict, the old key's death."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.rotation.assessment import (
    Consumer,
    NewKeyReport,
    ServiceInfo,
    consumers_of,
    dead_verdict,
    ips_to_whitelist,
    judge,
    suggest_permissions,
)
from keyhygiene.core.rotation.states import Verdict

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def record(purpose: str = "bot", exposures: list[Exposure] | None = None) -> KeyRecord:
    return KeyRecord(id="k1", exchange="bybit", label="bot", purpose=purpose, fingerprint="AAAA…ZZZZ",
                     key_sha256="d", created_at=NOW, added_at=NOW, updated_at=NOW, exposures=exposures or [])


def profile(**kw: object) -> KeyProfile:
    base: dict[str, object] = {"exchange": "bybit", "key": "BBBB…YYYY", "permissions": ["read", "spot_trade"],
                               "ip_restricted": True}
    base.update(kw)
    return KeyProfile(**base)  # type: ignore[arg-type]


def test_consumers_are_active_exposures_with_registry_facts() -> None:
    rec = record(exposures=[
        Exposure("3commas", date(2022, 1, 1)),
        Exposure("koinly", date(2022, 1, 1), revoked_at=date(2023, 1, 1)),  # ended: not a consumer any more
        Exposure("file:/srv/bot/config.json"),
        Exposure("my friend's script"),
    ])
    infos = {"3commas": ServiceInfo("3commas", "3Commas", ("1.2.3.4",), "yes", None, "trade")}
    items = consumers_of(rec, infos)
    assert [(c.id, c.name, c.kind) for c in items] == [
        ("3commas", "3Commas", "service"), ("my friend's script", "my friend's script", "service"),
        ("file:/srv/bot/config.json", "/srv/bot/config.json", "file"),
    ]
    assert items[0].ips == ["1.2.3.4"] and "1.2.3.4" in items[0].instruction
    assert "/srv/bot/config.json" in items[2].instruction
    assert Consumer.from_json(items[0].to_json()) == items[0]


def test_ips_are_merged_without_duplicates() -> None:
    a = Consumer("a", "A", "service", ips=["1.1.1.1", "2.2.2.2"])
    b = Consumer("b", "B", "service", ips=["2.2.2.2", "3.3.3.3"])
    assert ips_to_whitelist([a, b]) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]


@pytest.mark.parametrize(
    ("purpose", "old_perms", "needs", "expected"),
    [
        ("bot", ["read", "spot_trade", "withdraw"], ["trade"], ["read", "spot_trade"]),
        ("tax", ["read", "spot_trade"], [], ["read"]),
        ("trading", ["read", "futures_trade", "transfer"], [], ["futures_trade", "read"]),
        ("bot", ["read", "spot_trade"], ["read"], ["read"]),  # every consumer only reads
        ("other", None, [], ["futures_trade", "margin_trade", "options_trade", "read", "spot_trade"]),
    ],
)
def test_suggested_permissions(purpose: str, old_perms: list[str] | None, needs: list[str],
                               expected: list[str]) -> None:
    old = profile(permissions=old_perms) if old_perms is not None else None
    consumers = [Consumer(f"s{i}", "S", "service", needs=n) for i, n in enumerate(needs)]
    assert suggest_permissions(purpose, old, consumers) == expected


def test_a_clean_key_passes_and_differences_are_warned() -> None:
    old = profile(permissions=["read", "spot_trade", "futures_trade"], is_master=True)
    new = profile(permissions=["read", "spot_trade", "options_trade"], is_master=False)
    r = judge(record(), old, new)
    assert r.verdict is Verdict.PASSED
    text = " ".join(r.warnings)
    assert "more than the old one: options_trade" in text
    assert "cannot futures_trade" in text
    assert "sub-account" in text
    assert NewKeyReport.from_json(r.to_json()) == r


@pytest.mark.parametrize(
    ("kw", "risks"),
    [({"permissions": ["read", "withdraw"]}, ["withdraw"]), ({"ip_restricted": False}, ["ip_unrestricted"])],
)
def test_risks(kw: dict, risks: list[str]) -> None:
    r = judge(record(), None, profile(**kw))
    assert r.verdict is Verdict.RISKY and r.risks == risks and len(r.risk_texts) == len(risks)


def test_transfer_and_declared_permissions_are_warnings() -> None:
    r = judge(record(), None, profile(permissions=["read", "transfer"], permissions_source="declared",
                                      ip_restricted=None))
    assert r.verdict is Verdict.PASSED
    assert len(r.warnings) == 3


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (Status.INVALID_KEY, Verdict.REFUSED),
        (Status.INVALID_PASSPHRASE, Verdict.REFUSED),
        (Status.IP_NOT_ALLOWED, Verdict.REFUSED),
        (Status.REJECTED, Verdict.REFUSED),
        (Status.UNSUPPORTED, Verdict.REFUSED),
        (Status.UNREACHABLE, Verdict.RETRY),
        (Status.RATE_LIMITED, Verdict.RETRY),
        (Status.CLOCK_SKEW, Verdict.RETRY),
    ],
)
def test_statuses(status: Status, verdict: Verdict) -> None:
    assert judge(record(), None, profile(status=status, message="m")).verdict is verdict


def test_other_exchange_and_other_account_are_refused() -> None:
    assert judge(record(), None, profile(exchange="okx")).verdict is Verdict.REFUSED
    new = profile()
    new.account_id = "2"  # type: ignore[attr-defined]
    r = judge(record(), None, new, old_account="1")
    assert r.verdict is Verdict.REFUSED and "different bybit account" in r.refusals[0]
    assert judge(record(), None, new, old_account="2").verdict is Verdict.PASSED
    assert judge(record(), None, profile(), old_account="1").verdict is Verdict.PASSED  # unknown: no claim


def test_only_medium_or_worse_findings_are_carried() -> None:
    findings = [Finding("a", "critical", "A", "d", "f"), Finding("b", "medium", "B", "d", "f"),
                Finding("c", "low", "C", "d", "f")]
    assert [f["rule"] for f in judge(record(), None, profile(), findings).findings] == ["a", "b"]


@pytest.mark.parametrize(
    ("status", "dead", "certain"),
    [
        (Status.INVALID_KEY, True, True),
        (Status.INVALID_SIGNATURE, True, True),
        (Status.IP_NOT_ALLOWED, True, False),
        (Status.REJECTED, True, False),
        (Status.PERMISSION_DENIED, True, False),
        (Status.OK, False, True),
        (Status.UNREACHABLE, False, False),
    ],
)
def test_what_an_answer_about_the_old_key_proves(status: Status, dead: bool, certain: bool) -> None:
    v = dead_verdict(status, "Binance", new_key_ok=True)
    assert (v.dead, v.certain) == (dead, certain)
    if dead and not certain:
        assert "cannot be certain" in v.explanation and "not blocked" in v.explanation
    assert "not blocked" not in dead_verdict(status, "Binance", new_key_ok=None).explanation


def test_permissions_the_exchange_does_not_say_are_a_warning() -> None:
    # Issue 15 item 2: a MEXC key's answer proves only "read"; the rest is not said, never assumed absent.
    r = judge(record(), None, profile(permissions=["read"], permissions_source="unknown"))
    assert any("does not say what the new key may do" in w for w in r.warnings)
