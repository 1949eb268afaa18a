"""Every transition and refusal of the rotation state machine, with a fake exchange and an in-memory keychain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, Status
from keyhygiene.core.rotation.machine import RotationError, RotationMachine
from keyhygiene.core.rotation.states import Action, Phase, Step, Verdict
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.rotation_journal import history
from keyhygiene.store.vault import ValidationError, Vault
from tests.helpers.rotation_fakes import FakeClock, FakeExchange

Make = Callable[..., RotationMachine]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def to_test(make: Make, new: Credentials) -> RotationMachine:
    m = make()
    m.start(run(m.plan()))
    run(m.store_new_key(new))
    return m


def to_revoke(make: Make, new: Credentials) -> RotationMachine:
    m = to_test(make, new)
    assert run(m.test_new_key()).verdict is Verdict.PASSED
    m.confirm_consumers(tick_all=True)
    return m


# ---- plan and start -------------------------------------------------------------------------------------------
def test_plan_describes_the_old_key_and_its_consumers(make_machine: Make, exchange: FakeExchange) -> None:
    m = make_machine()
    assert m.step is Step.PLAN
    plan = run(m.plan())
    assert plan.baseline is not None and plan.baseline.status is Status.OK and plan.baseline_live
    assert [c.name for c in plan.consumers] == ["3Commas", "/home/u/bot/config.json"]
    assert plan.consumers[0].ips == ["18.0.0.1", "18.0.0.2"]
    # 3Commas leaked keys (2022-12-28) after it got this one (2022-05-01): stop by default, and say why.
    three, local = plan.consumers
    assert (three.keep, local.keep) == (False, True)
    assert three.why == "3Commas had an API-key leak (2022-12-28) after you gave it this key on 2022-05-01."
    # A stopped consumer never uses the new key: its IPs are not whitelisted on it...
    assert plan.ips == [] and not any("18.0.0.1" in line for line in plan.advice)
    # ...until the user keeps it after all.
    plan.decide("3commas", keep=True)
    assert plan.ips == ["18.0.0.1", "18.0.0.2"] and any("18.0.0.1" in line for line in plan.advice)
    # A bot key: trade and read, never withdraw, even though the old key could withdraw (in the user's words).
    assert plan.suggested_permissions == ["read", "spot_trade"]
    assert "allows only: Read, Spot. No withdrawal." in plan.advice[0]
    assert plan.revoke_via_api is True
    assert plan.api_page == "https://bybit.example/api-management"
    with pytest.raises(RotationError, match="not a consumer"):
        plan.decide("koinly", keep=False)
    # Without the rules engine the reasons still say who has the key.
    assert plan.findings == [] and plan.reasons[0] == "The key was given to: 3Commas, /home/u/bot/config.json."
    assert exchange.count("inspect") == 1
    assert Journal(m.vault.db).open_for(m.key_id) is None  # planning stores nothing


def test_plan_falls_back_to_the_stored_profile_when_the_exchange_is_unreachable(
    make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str, old_creds: Credentials
) -> None:
    stored = run(exchange.inspect("bybit", old_creds, None))
    vault.repo.record_inspection(key_id, stored)
    exchange.unreachable = True
    plan = run(make_machine().plan())
    assert plan.baseline_live is False
    assert plan.baseline is not None and plan.baseline.status is Status.OK


def test_start_creates_one_rotation_per_key(make_machine: Make) -> None:
    m = make_machine()
    plan = run(m.plan())
    rot = m.start(plan)
    assert rot.state is Step.NEW_KEY and rot.old_fingerprint == m.key.fingerprint
    other = make_machine()  # loads the open rotation
    assert other.rotation is not None and other.rotation.id == rot.id
    fresh = RotationMachine(m.vault, m.key_id, m.ops, hook=None)
    with pytest.raises(RotationError, match="already has a rotation in progress"):
        fresh.start(plan)
    with pytest.raises(RotationError, match="in progress"):
        run(fresh.plan())


def test_a_key_without_secret_cannot_be_rotated(make_machine: Make, vault: Vault, key_id: str) -> None:
    vault.secrets.delete(key_id, CURRENT)
    with pytest.raises(RotationError, match="no secret in the keychain"):
        run(make_machine().plan())


# ---- new key ------------------------------------------------------------------------------------------------
def test_new_key_is_stored_as_pending_and_current_is_untouched(
    make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str, old_creds: Credentials
) -> None:
    new = exchange.add()
    m = to_test(make_machine, new)
    assert m.step is Step.TEST_NEW
    assert vault.secrets.get(key_id, PENDING) == new
    assert vault.secrets.get(key_id, CURRENT) == old_creds
    assert m.data["new"]["fingerprint"] == mask_key(new.api_key)
    assert vault.get_key(key_id).fingerprint != m.data["new"]["fingerprint"]


def test_the_old_key_again_is_refused(make_machine: Make, old_creds: Credentials, vault: Vault, key_id: str) -> None:
    m = make_machine()
    m.start(run(m.plan()))
    with pytest.raises(ValidationError, match="old key again"):
        run(m.store_new_key(old_creds))
    assert vault.secrets.get(key_id, PENDING) is None
    assert m.step is Step.NEW_KEY


def test_a_key_stored_under_another_entry_is_refused(make_machine: Make, exchange: FakeExchange, vault: Vault) -> None:
    other = exchange.add()
    vault.add_key("bybit", "Other", other)
    m = make_machine()
    m.start(run(m.plan()))
    with pytest.raises(ValidationError, match="already stored as"):
        run(m.store_new_key(other))


def test_empty_credentials_are_refused(make_machine: Make) -> None:
    m = make_machine()
    m.start(run(m.plan()))
    with pytest.raises(ValidationError, match="secret is empty"):
        run(m.store_new_key(Credentials(api_key="AKabcdef123456", secret=" ")))


# ---- test ---------------------------------------------------------------------------------------------------
def test_a_clean_new_key_passes_and_moves_to_consumers(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add())
    report = run(m.test_new_key())
    assert report.verdict is Verdict.PASSED and not report.risks and not report.refusals
    # It may do less than the old key: that is worth a warning, not a refusal.
    assert any("lacks what the old one had: Withdraw." in w for w in report.warnings)
    assert m.step is Step.CONSUMERS


@pytest.mark.parametrize(
    ("new_key", "risks"),
    [
        ({"permissions": {"read", "withdraw"}}, ["withdraw"]),
        ({"ip_restricted": False}, ["ip_unrestricted"]),
        ({"permissions": {"read", "withdraw"}, "ip_restricted": False}, ["withdraw", "ip_unrestricted"]),
    ],
)
def test_a_risky_new_key_stops_until_the_risk_is_accepted(
    make_machine: Make, exchange: FakeExchange, new_key: dict, risks: list[str]
) -> None:
    m = to_test(make_machine, exchange.add(**new_key))
    report = run(m.test_new_key())
    assert report.verdict is Verdict.RISKY and report.risks == risks
    assert m.step is Step.TEST_NEW
    with pytest.raises(RotationError):
        m.confirm_consumers(tick_all=True)  # cannot skip ahead
    m.accept_risk()
    assert m.step is Step.CONSUMERS and m.data["accepted_risks"] == risks
    entries = Journal(m.vault.db).entries(m.rotation.id)  # type: ignore[union-attr]
    assert (Action.ACCEPT_RISK, Phase.DONE) in [(e.action, e.phase) for e in entries]


def test_accepting_a_risk_needs_a_risky_verdict(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add())
    with pytest.raises(RotationError, match="no risk to accept"):
        m.accept_risk()


def test_unknown_ip_restriction_is_a_warning_not_a_stop(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add(ip_restricted=None))
    report = run(m.test_new_key())
    assert report.verdict is Verdict.PASSED
    assert any("does not say whether" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("new_key", "match"),
    [
        ({"status": Status.INVALID_SIGNATURE}, "rejected the new key"),
        ({"status": Status.IP_NOT_ALLOWED}, "this computer's IP"),
        ({"account": "acct-2"}, "different bybit account"),
    ],
)
def test_refused_new_keys_stay_at_test_and_can_be_replaced(
    make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str, new_key: dict, match: str
) -> None:
    m = to_test(make_machine, exchange.add(**new_key))
    report = run(m.test_new_key())
    assert report.verdict is Verdict.REFUSED
    assert any(match in r for r in report.refusals)
    assert m.step is Step.TEST_NEW
    with pytest.raises(RotationError):
        m.accept_risk()
    better = exchange.add()
    run(m.store_new_key(better))  # replace the refused key
    assert vault.secrets.get(key_id, PENDING) == better
    assert run(m.test_new_key()).verdict is Verdict.PASSED


def test_a_key_of_another_exchange_is_refused(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add())

    async def other_exchange(ex: str, creds: Credentials, declared: list[str] | None):  # type: ignore[no-untyped-def]
        prof = await exchange.inspect("okx", creds, declared)
        return prof

    m.ops.inspect = other_exchange
    report = run(m.test_new_key())
    assert report.verdict is Verdict.REFUSED and "belongs to okx" in report.refusals[0]


def test_an_unreachable_exchange_changes_nothing(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add())
    exchange.unreachable = True
    report = run(m.test_new_key())
    assert report.verdict is Verdict.RETRY and m.step is Step.TEST_NEW
    exchange.unreachable = False
    assert run(m.test_new_key()).verdict is Verdict.PASSED


def test_policy_findings_on_the_new_key_are_shown(make_machine: Make, exchange: FakeExchange) -> None:
    from keyhygiene.core.models import Finding

    seen = []

    def assess(record, profile):  # type: ignore[no-untyped-def]
        seen.append(record)
        return [Finding("too_old", "high", "Too old", "d", "f"), Finding("fyi", "info", "FYI", "d", "f")]

    m = to_test(lambda: make_machine(assess=assess), exchange.add())
    report = run(m.test_new_key())
    assert [f["rule"] for f in report.findings] == ["too_old"]
    # The policy judges the key as it will be: new fingerprint, shared with the kept consumers only (3Commas leaked
    # keys after it got this one: stopped by default; the local file is kept).
    assert [e.service for e in seen[-1].exposures] == ["file:/home/u/bot/config.json"]
    assert seen[-1].fingerprint == m.data["new"]["fingerprint"]


# ---- consumers ------------------------------------------------------------------------------------------------
def test_every_consumer_must_be_ticked(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_test(make_machine, exchange.add())
    run(m.test_new_key())
    with pytest.raises(RotationError, match="Still to do: 3Commas: access removed at the service; "
                                             "/home/u/bot/config.json: updated with the new key"):
        m.confirm_consumers()
    m.tick_consumer("3commas")
    again = make_machine()  # ticks survive a restart
    assert [c.done for c in again.consumers()] == [True, False]
    with pytest.raises(RotationError, match="not on this rotation's checklist"):
        m.tick_consumer("koinly")
    m.tick_consumer("file:/home/u/bot/config.json")
    m.confirm_consumers()
    assert m.step is Step.REVOKE_OLD


# ---- revoke and verify ----------------------------------------------------------------------------------------
def test_api_revocation_then_verification(make_machine: Make, exchange: FakeExchange, old_creds: Credentials,
                                          vault: Vault, key_id: str) -> None:
    new = exchange.add()
    m = to_revoke(make_machine, new)
    rep = run(m.revoke_old())
    assert rep.method == "api" and rep.ok is True
    assert exchange.count("revoke") == 1 and exchange.keys[old_creds.api_key].revoked
    assert m.step is Step.VERIFY_OLD
    # Until FINISH, the old secret stays where it was.
    assert vault.secrets.get(key_id, CURRENT) == old_creds
    ver = run(m.verify_old_dead(timeout=0))
    assert ver.dead and ver.certain and ver.status == "invalid_key"
    assert m.step is Step.FINISH and m.rotation is not None and m.rotation.old_dead_at is not None


def test_manual_revocation_polls_with_backoff_until_the_key_is_gone(
    make_machine: Make, exchange: FakeExchange, old_creds: Credentials, clock: FakeClock
) -> None:
    exchange.api_revoke = set()
    m = to_revoke(make_machine, exchange.add())
    rep = run(m.revoke_old())
    assert rep.method == "manual" and rep.ok is None
    assert m.key.fingerprint in rep.message and "bybit.example" in rep.message
    assert exchange.count("revoke") == 0
    attempts = []

    def on_attempt(a):  # type: ignore[no-untyped-def]
        attempts.append(a)
        if a.number == 3:
            exchange.keys[old_creds.api_key].revoked = True  # the user deletes it on the website

    ver = run(m.verify_old_dead(timeout=600, on_attempt=on_attempt))
    assert ver.dead and ver.attempts == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]  # exponential backoff


def test_verification_times_out_and_the_rotation_waits(make_machine: Make, exchange: FakeExchange,
                                                      clock: FakeClock) -> None:
    exchange.api_revoke = set()
    m = to_revoke(make_machine, exchange.add())
    run(m.revoke_old())
    ver = run(m.verify_old_dead(timeout=20))
    assert not ver.dead and ver.timed_out and ver.status == "ok"
    assert sum(clock.sleeps) == pytest.approx(20)
    assert m.step is Step.VERIFY_OLD
    assert "still accepts" in ver.explanation


def test_an_ambiguous_rejection_counts_as_dead_but_says_so(make_machine: Make, exchange: FakeExchange,
                                                          old_creds: Credentials) -> None:
    exchange.keys[old_creds.api_key].dead_status = Status.REJECTED
    m = to_revoke(make_machine, exchange.add())
    run(m.revoke_old())
    ver = run(m.verify_old_dead(timeout=0))
    assert ver.dead and not ver.certain
    assert "cannot be certain" in ver.explanation and "not blocked" in ver.explanation
    run(m.finish())
    rec = history(m.vault.db, m.key_id)[0]
    assert rec.old_dead_status == "rejected" and rec.old_dead_certain is False


def test_both_keys_rejected_is_not_taken_for_a_dead_old_key(make_machine: Make, exchange: FakeExchange,
                                                           old_creds: Credentials) -> None:
    new = exchange.add()
    m = to_revoke(make_machine, new)
    run(m.revoke_old())
    exchange.keys[new.api_key].revoked = True  # the user deleted the wrong key as well
    ver = run(m.verify_old_dead(timeout=0))
    assert not ver.dead and ver.both_rejected and "new key was deleted" in ver.explanation
    assert m.step is Step.VERIFY_OLD


def test_api_refusal_falls_back_to_the_website(make_machine: Make, exchange: FakeExchange,
                                               old_creds: Credentials) -> None:
    exchange.revoke_refuses = True
    m = to_revoke(make_machine, exchange.add())
    rep = run(m.revoke_old())
    assert rep.method == "api" and rep.ok is False
    assert "refused" in rep.message and "Delete the key" in rep.message
    assert m.step is Step.VERIFY_OLD
    assert not run(m.verify_old_dead(timeout=0)).dead


def test_declining_the_api_delete_guides_the_user(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_revoke(make_machine, exchange.add())
    rep = run(m.revoke_old(use_api=False))
    assert rep.method == "manual" and exchange.count("revoke") == 0


# ---- finish -----------------------------------------------------------------------------------------------------
def test_finish_promotes_records_and_cleans_up(make_machine: Make, exchange: FakeExchange, vault: Vault,
                                               key_id: str, old_creds: Credentials) -> None:
    before = vault.get_key(key_id)
    new = exchange.add()
    m = to_revoke(make_machine, new)
    run(m.revoke_old())
    run(m.verify_old_dead(timeout=0))
    rot = run(m.finish())
    assert rot.state is Step.DONE and rot.finished_at is not None
    after = vault.get_key(key_id)
    assert (after.id, after.label, after.purpose) == (before.id, before.label, before.purpose)
    assert after.fingerprint == rot.new_fingerprint != before.fingerprint
    assert after.key_sha256 != before.key_sha256
    # The kept consumer (the local file) holds the new key from today; 3Commas (stopped) does not; the old
    # key's sharings are closed today and stay in the history.
    today = rot.finished_at.date()  # type: ignore[union-attr]
    assert after.shared_with == ["file:/home/u/bot/config.json"]
    old = [e for e in after.exposures if e.revoked_at is not None]
    assert sorted(e.service for e in old) == ["3commas", "file:/home/u/bot/config.json"]
    assert all(e.revoked_at == today for e in old)
    (kept,) = [e for e in after.exposures if e.active]
    assert kept.shared_at == today
    assert [e.service for e in after.current_exposures] == ["file:/home/u/bot/config.json"]
    assert vault.secrets.get(key_id, CURRENT) == new
    assert vault.secrets.get(key_id, PENDING) is None
    latest = vault.repo.latest_inspection(key_id)
    assert latest is not None and latest[1].key == after.fingerprint
    rec = history(vault.db, key_id)[0]
    assert (rec.state, rec.old_fingerprint, rec.new_fingerprint) == ("done", before.fingerprint, after.fingerprint)
    assert rec.old_dead_at is not None and rec.old_dead_certain is True
    assert m.load() is None  # nothing left open
    with pytest.raises(RotationError, match="already done"):
        m.rotation = rot
        run(m.finish())


def test_steps_cannot_be_skipped(make_machine: Make, exchange: FakeExchange) -> None:
    m = make_machine()
    with pytest.raises(RotationError, match="no rotation in progress"):
        run(m.test_new_key())
    m.start(run(m.plan()))
    for call in (m.test_new_key(), m.revoke_old(), m.verify_old_dead(0), m.finish()):
        with pytest.raises(RotationError, match="is at 'new_key'"):
            run(call)


# ---- back and cancel ----------------------------------------------------------------------------------------------
def test_back_is_allowed_only_before_the_old_key_is_touched(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_revoke(make_machine, exchange.add())
    assert m.can_back()
    m.back()
    assert m.step is Step.CONSUMERS
    m.back()
    assert m.step is Step.TEST_NEW
    m.back()
    assert m.step is Step.NEW_KEY and m.data["test"] is None
    with pytest.raises(RotationError):
        m.back()
    run(m.store_new_key(m.pending_credentials()))  # type: ignore[arg-type]
    run(m.test_new_key())
    m.confirm_consumers(tick_all=True)
    run(m.revoke_old())
    assert not m.can_back()
    with pytest.raises(RotationError):
        m.back()


def test_cancel_keeps_the_current_key(make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str,
                                      old_creds: Credentials) -> None:
    m = to_test(make_machine, exchange.add())
    assert m.can_cancel()
    rot = run(m.cancel())
    assert rot is not None and rot.state is Step.CANCELLED and rot.finished_at is not None
    assert vault.secrets.get(key_id, CURRENT) == old_creds
    assert vault.secrets.get(key_id, PENDING) is None
    assert vault.get_key(key_id).fingerprint == rot.old_fingerprint
    assert vault.get_key(key_id).shared_with  # exposures untouched
    # A new rotation can start after a cancelled one.
    fresh = make_machine()
    assert fresh.rotation is None
    fresh.start(run(fresh.plan()))


def test_cancel_is_refused_once_the_exchange_deleted_the_old_key(make_machine: Make, exchange: FakeExchange) -> None:
    m = to_revoke(make_machine, exchange.add())
    run(m.revoke_old())
    assert not m.can_cancel()
    with pytest.raises(RotationError, match="finish the rotation"):
        run(m.cancel())


def test_cancel_after_manual_revoke_only_while_the_old_key_works(make_machine: Make, exchange: FakeExchange,
                                                                 old_creds: Credentials) -> None:
    exchange.api_revoke = set()
    m = to_revoke(make_machine, exchange.add())
    run(m.revoke_old())
    assert m.can_cancel()
    exchange.keys[old_creds.api_key].revoked = True
    with pytest.raises(RotationError, match="without a working key"):
        run(m.cancel())
    exchange.keys[old_creds.api_key].revoked = False
    assert run(m.cancel()).state is Step.CANCELLED  # type: ignore[union-attr]


def test_a_stale_machine_acts_on_the_stored_state(make_machine: Make, exchange: FakeExchange) -> None:
    a = to_test(make_machine, exchange.add())
    b = make_machine()
    run(a.test_new_key())  # a moves to CONSUMERS
    with pytest.raises(RotationError, match="is at 'consumers'"):
        run(b.test_new_key())
