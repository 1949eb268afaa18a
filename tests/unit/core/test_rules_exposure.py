"""Exposure rules: leaked, breached and defunct services, third parties, several consumers, links, disk copies."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import registry_from_document
from keyhygiene.core.rules import RuleContext
from keyhygiene.core.severity import Severity
from keyhygiene.paths import resource
from tests.unit.core.rule_factories import LEAK_3COMMAS, ago, make_key, make_profile, of, one, run, share

DAY = timedelta(days=1)
TRADE_IP = {"perms": ("read", "spot_trade"), "ip": True}


def leak(findings):  # type: ignore[no-untyped-def]
    return of(findings, "shared_with_leaked_service")


# ---- 3Commas, 2022-12-28 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("shared", "revoked", "expected"),
    [
        (LEAK_3COMMAS - DAY, None, Severity.CRITICAL),  # the day before: in their database when it leaked
        (LEAK_3COMMAS, None, Severity.CRITICAL),  # the same day: the dump was collected over time
        (LEAK_3COMMAS + DAY, None, None),  # the day after: not in that leak
        (date(2022, 6, 1), LEAK_3COMMAS - DAY, None),  # revoked the day before the leak
        (date(2022, 6, 1), LEAK_3COMMAS, Severity.CRITICAL),  # revoked on the day: too late
        (date(2022, 6, 1), LEAK_3COMMAS + DAY, Severity.CRITICAL),  # revoked after: still critical (history)
    ],
)
def test_3commas_leak_boundaries(shared: date, revoked: date | None, expected: Severity | None) -> None:
    key = make_key(created=ago(4 * 365), exposures=[share("3commas", shared, revoked)])
    found = leak(run(key, make_profile(**TRADE_IP)))
    if expected is None:
        assert found == []
    else:
        assert [f.severity for f in found] == [expected.value]
        assert "2022-12-28" in found[0].title and "3Commas" in found[0].title
        assert found[0].evidence["incident"] == "3commas-2022-12-key-leak"
        assert "Delete this key now" in found[0].fix


def test_leak_without_share_date_on_a_key_older_than_the_leak_is_high() -> None:
    key = make_key(created=ago(5 * 365), exposures=[share("3commas")])
    f = one(run(key, make_profile(**TRADE_IP)), "shared_with_leaked_service")
    assert f.severity == "high"
    assert "cannot rule out" in f.detail


def test_leak_without_share_date_on_a_key_created_after_the_leak_is_nothing() -> None:
    key = make_key(created=ago(30), exposures=[share("3commas")])
    assert leak(run(key, make_profile(**TRADE_IP))) == []


def test_leak_without_any_dates_and_a_key_added_recently_is_medium() -> None:
    key = make_key(created=None, added=ago(10), exposures=[share("3commas")])
    f = one(run(key, make_profile(**TRADE_IP)), "shared_with_leaked_service")
    assert f.severity == "medium"


def test_exchange_reported_creation_date_wins_over_the_declared_one() -> None:
    # Declared as old, but the exchange says it was created after the leak: it cannot have been in it.
    key = make_key(created=ago(5 * 365), exposures=[share("3commas")])
    profile = make_profile(created=ago(40), **TRADE_IP)
    assert leak(run(key, profile)) == []


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_a_share_date_before_a_declared_later_creation_keeps_the_leak_and_says_a_date_is_wrong() -> None:
    # keys add --created 2024-01-01 --shared-with 3commas@2022-01-01: the user's two dates contradict each other.
    # One is wrong, and nothing says which: the leak stays critical (a security tool does not drop it on a
    # guess), and the sharing finding asks the user to check both dates.
    key = make_key(created=_midnight(date(2024, 1, 1)), exposures=[share("3commas", date(2022, 1, 1))])
    found = run(key, make_profile(**TRADE_IP))
    assert [f.severity for f in leak(found)] == ["critical"]
    third = one(found, "shared_with_third_party")
    assert "before the key was created (2024-01-01)" in third.detail and "check them" in third.detail


def test_a_share_date_before_the_exchange_reported_creation_does_not_put_a_later_key_in_the_leak() -> None:
    # The exchange's own creation date settles it: the key did not exist at the 2022 leak, whatever the share
    # date says; the 2023 account-data breach, after its creation, still counts.
    key = make_key(created=None, exposures=[share("3commas", date(2022, 1, 1))])
    found = run(key, make_profile(created=_midnight(LEAK_3COMMAS + DAY), **TRADE_IP))
    assert leak(found) == []
    assert [f.evidence["incident"] for f in of(found, "shared_with_breached_service")] == [
        "3commas-2023-10-account-data"]
    third = one(found, "shared_with_third_party")
    assert "before the key was created" in third.detail and "(2022-12-28)" in third.detail


@pytest.mark.parametrize(
    ("created", "added"),
    [
        (LEAK_3COMMAS, None),  # created on the leak day: it may have been collected, as for share dates
        (date(2022, 6, 1), None),  # created before the leak: unchanged, the share date decides
        (None, date(2026, 5, 27)),  # creation unknown, only the day it was added here: unchanged, assume exposed
    ],
)
def test_a_key_that_existed_or_may_have_existed_at_the_leak_is_still_critical(created: date | None,
                                                                               added: date | None) -> None:
    key = make_key(created=_midnight(created) if created else None, added=_midnight(added) if added else None,
                   exposures=[share("3commas", date(2022, 1, 1))])
    found = run(key, make_profile(**TRADE_IP))
    assert [f.severity for f in leak(found)] == ["critical"]
    # The impossible share date is pointed out only when a creation date is known to contradict it.
    assert ("before the key was created" in one(found, "shared_with_third_party").detail) is (created is not None)


def test_leak_is_reported_by_alias_too() -> None:
    key = make_key(created=ago(5 * 365), exposures=[share("Three Commas", date(2022, 1, 1))])
    assert one(run(key, make_profile(**TRADE_IP)), "shared_with_leaked_service").severity == "critical"


def test_a_key_the_exchange_no_longer_knows_is_not_critical_any_more() -> None:
    key = make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 1, 1))])
    f = one(run(key, make_profile(status=Status.INVALID_KEY)), "shared_with_leaked_service")
    assert f.severity == "low"
    assert "no longer accepts" in f.detail


def _registry_with(mutate):  # type: ignore[no-untyped-def]
    doc = json.loads(resource("services.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    mutate(doc)
    return registry_from_document(doc)


def test_unverified_leak_is_high_not_critical() -> None:
    def unverify(doc):  # type: ignore[no-untyped-def]
        svc = next(s for s in doc["services"] if s["id"] == "3commas")
        for inc in svc["incidents"]:
            inc["verified"] = False

    reg = _registry_with(unverify)
    key = make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 1, 1))])
    f = one(run(key, make_profile(**TRADE_IP), registry=reg), "shared_with_leaked_service")
    assert f.severity == "high"
    assert "not verified" in f.detail


@pytest.mark.parametrize(("shared", "hit"), [(date(2023, 3, 31), True), (date(2023, 4, 1), False)])
def test_month_precision_incident_covers_the_whole_month(shared: date, hit: bool) -> None:
    def add_leak(doc):  # type: ignore[no-untyped-def]
        svc = next(s for s in doc["services"] if s["id"] == "koinly")
        svc["incidents"].append({
            "id": "koinly-test-leak", "date": "2023-03-01", "date_precision": "month", "kind": "key_leak",
            "summary": "A made-up leak for this test only.", "sources": ["https://example.org/x"], "verified": True,
        })

    reg = _registry_with(add_leak)
    key = make_key(purpose="tax", created=ago(5 * 365), exposures=[share("koinly", shared)])
    assert bool(leak(run(key, make_profile(), registry=reg))) is hit


# ---- other incidents, defunct services ---------------------------------------------------------------------------

def test_wallet_breach_while_shared_is_medium_and_before_sharing_is_nothing() -> None:
    during = make_key(purpose="tax", created=ago(5 * 365), exposures=[share("coinstats", date(2024, 1, 1))])
    f = one(run(during, make_profile()), "shared_with_breached_service")
    assert f.severity == "medium" and "2024-06-22" in f.title
    after = make_key(purpose="tax", created=ago(5 * 365), exposures=[share("coinstats", date(2024, 7, 1))])
    assert of(run(after, make_profile()), "shared_with_breached_service") == []


def test_phishing_clone_is_low_and_names_the_real_site() -> None:
    key = make_key(created=ago(5 * 365), exposures=[share("3commas", date(2022, 9, 1), date(2022, 11, 1))])
    f = one(run(key, make_profile(**TRADE_IP)), "shared_with_breached_service")
    assert f.severity == "low"
    assert "https://3commas.io" in f.detail


def test_registration_spam_is_not_a_finding() -> None:
    key = make_key(purpose="tax", created=ago(6 * 365), exposures=[share("cointracker", date(2021, 1, 1))])
    assert of(run(key, make_profile()), "shared_with_breached_service") == []


@pytest.mark.parametrize(("perms", "severity"), [(("read",), "medium"), (("read", "spot_trade"), "high")])
def test_still_shared_with_a_defunct_service(perms: tuple[str, ...], severity: str) -> None:
    key = make_key(purpose="other", exposures=[share("accointing", date(2021, 1, 1))])
    f = one(run(key, make_profile(perms=perms)), "shared_with_defunct_service")
    assert f.severity == severity
    assert "reported" in f.title  # the registry marks Accointing's shutdown as unverified
    ended = make_key(purpose="other", exposures=[share("accointing", date(2021, 1, 1), date(2022, 1, 1))])
    assert of(run(ended, make_profile(perms=perms)), "shared_with_defunct_service") == []


# ---- third parties and consumers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("perms", "severity"),
    [(("read",), "low"), (("read", "spot_trade"), "medium"), (("read", "transfer"), "medium"),
     (("read", "withdraw"), "high")],
)
def test_shared_with_third_party_by_permission(perms: tuple[str, ...], severity: str) -> None:
    key = make_key(purpose="other", exposures=[share("bitsgap", date(2025, 1, 1))])
    f = one(run(key, make_profile(perms=perms)), "shared_with_third_party")
    assert f.severity == severity
    assert "Bitsgap" in f.title


def test_third_party_fix_points_to_published_ips_when_not_restricted() -> None:
    key = make_key(purpose="bot", exposures=[share("crypto-ml", date(2025, 1, 1))])
    f = one(run(key, make_profile(perms=("read", "spot_trade"), ip=False)), "shared_with_third_party")
    assert "the IP addresses Crypto-ML publishes" in f.fix
    nip = one(run(key, make_profile(perms=("read", "spot_trade"), ip=False)), "no_ip_restriction")
    assert "54.209.224.202" in nip.fix


def test_unknown_service_counts_as_a_third_party() -> None:
    key = make_key(purpose="other", exposures=[share("my friend's bot", date(2025, 1, 1))])
    f = one(run(key, make_profile()), "shared_with_third_party")
    assert "not in KeyHygiene's service registry" in f.detail


@pytest.mark.parametrize("service", ["freqtrade", "file:/home/me/bot/config.json"])
def test_self_hosted_bots_and_local_files_are_not_third_parties(service: str) -> None:
    key = make_key(exposures=[share(service, date(2025, 1, 1))])
    assert of(run(key, make_profile(**TRADE_IP)), "shared_with_third_party") == []


def test_ended_sharing_is_not_a_third_party_finding() -> None:
    key = make_key(exposures=[share("bitsgap", date(2025, 1, 1), date(2025, 3, 1))])
    assert of(run(key, make_profile(**TRADE_IP)), "shared_with_third_party") == []


def test_several_consumers_boundary_follows_the_policy() -> None:
    two = make_key(exposures=[share("bitsgap", date(2025, 1, 1)), share("file:/srv/bot/.env", date(2025, 2, 1))])
    f = one(run(two, make_profile(**TRADE_IP)), "shared_with_several")
    assert f.severity == "medium" and "2 consumers" in f.title
    assert of(run(two, make_profile(**TRADE_IP), policy=Policy(max_consumers=2)), "shared_with_several") == []
    one_only = make_key(exposures=[share("bitsgap", date(2025, 1, 1)),
                                   share("altrady", date(2024, 1, 1), date(2024, 6, 1))])
    assert of(run(one_only, make_profile(**TRADE_IP)), "shared_with_several") == []


@pytest.mark.parametrize(("exposures", "severity"), [([], "high"), ([share("coinmatics", date(2025, 1, 1))], "medium")])
def test_exchange_reported_third_party_link(exposures: list, severity: str) -> None:
    key = make_key("bybit", exposures=exposures)
    f = one(run(key, make_profile("bybit", third_party_link="Coinmatics copy trading", **TRADE_IP)),
            "third_party_link")
    assert f.severity == severity
    assert "Coinmatics copy trading" in f.detail
    assert of(run(key, make_profile("bybit", **TRADE_IP)), "third_party_link") == []


@pytest.mark.parametrize("by", ["id", "digest"])
def test_plaintext_copy_is_critical(by: str) -> None:
    key = make_key()
    ref = key.id if by == "id" else key.key_sha256
    ctx = RuleContext(plaintext_copies={ref: ["/home/me/freqtrade/config.json"]})
    f = one(run(key, make_profile(), context=ctx), "plaintext_copy")
    assert f.severity == "critical"
    assert "/home/me/freqtrade/config.json" in f.detail
    assert of(run(key, make_profile()), "plaintext_copy") == []


def test_a_disabled_rule_stays_silent() -> None:
    key = make_key(exposures=[share("bitsgap", date(2025, 1, 1))])
    policy = Policy(disabled_rules=("shared_with_third_party",))
    assert of(run(key, make_profile(**TRADE_IP), policy=policy), "shared_with_third_party") == []


def test_a_recorded_plaintext_copy_needs_no_context() -> None:
    """A scan records the copy on the key (an active ``file:`` exposure): every caller of the rules - the audit,
    the report, the window - must see it without building a context (the report and window did not)."""
    key = make_key(exposures=[share("file:/home/me/bot/.env", date(2025, 1, 1))])
    f = one(run(key, make_profile()), "plaintext_copy")
    assert f.severity == "critical" and "/home/me/bot/.env" in f.detail
    cleaned = make_key(exposures=[share("file:/home/me/bot/.env", date(2025, 1, 1), date(2025, 2, 1))])
    assert of(run(cleaned, make_profile()), "plaintext_copy") == []  # cleaned up: no longer on disk
