"""A rotation cut short at every journal point resumes where it stopped: nothing lost, no step done twice.

In-process version of tests/integration/test_rotation_kill.py: the journal hook raises right after the entry is
committed (as a kill would leave it), then a fresh machine, as a new process would build it, resumes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.machine import RotationMachine
from keyhygiene.core.rotation.states import (
    HAPPY_PATH_POINTS,
    KEYPAIR_PATH_POINTS,
    TERMINAL,
    Action,
    Phase,
    Step,
    Verdict,
)
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.vault import Vault
from tests.helpers.rotation_fakes import FakeExchange

Make = Callable[..., RotationMachine]


class Crash(BaseException):
    """Not an Exception: nothing in the machine may catch it, just as nothing survives a SIGKILL."""


def crash_at(point: tuple[Action, Phase]) -> Callable[[Action, Phase], None]:
    def hook(action: Action, phase: Phase) -> None:
        if (action, phase) == point:
            raise Crash(f"{action.value}:{phase.value}")

    return hook


async def drive(m: RotationMachine, new: Credentials) -> None:
    """What `rotate --yes --accept-risk` does, from whatever step the rotation is at."""
    if m.rotation is None:
        plan = await m.plan()
        # Against the defaults (3Commas stop, the local file keep): the decisions must survive any crash too.
        plan.decide("3commas", keep=True)
        plan.decide("file:/home/u/bot/config.json", keep=False)
        m.start(plan)
    while m.step not in TERMINAL:
        step = m.step
        if step is Step.NEW_KEY:
            await m.store_new_key(m.pending_credentials() or new)
        elif step is Step.TEST_NEW:
            if (await m.test_new_key()).verdict is Verdict.RISKY:
                m.accept_risk()
        elif step is Step.CONSUMERS:
            m.confirm_consumers(tick_all=True)
        elif step is Step.REVOKE_OLD:
            await m.revoke_old()
        elif step is Step.VERIFY_OLD:
            assert (await m.verify_old_dead(timeout=0)).dead
        elif step is Step.FINISH:
            await m.finish()


def check_invariants(exchange: FakeExchange, vault: Vault, key_id: str, old: Credentials, new: Credentials) -> None:
    current = vault.secrets.get(key_id, CURRENT)
    pending = vault.secrets.get(key_id, PENDING)
    assert exchange.works(current) or exchange.works(pending), "no working credential in the keychain"
    if current != old:
        assert exchange.keys[old.api_key].revoked, "old secret gone while the exchange still accepts the old key"


def test_a_straight_run_journals_exactly_the_happy_path(make_machine: Make, exchange: FakeExchange) -> None:
    new = exchange.add()
    m = make_machine()
    asyncio.run(drive(m, new))
    entries = Journal(m.vault.db).entries(m.rotation.id)  # type: ignore[union-attr]
    assert [(e.action, e.phase) for e in entries] == list(HAPPY_PATH_POINTS)


@pytest.mark.parametrize("point", HAPPY_PATH_POINTS, ids=lambda p: f"{p[0].value}:{p[1].value}")
def test_crash_at_every_point_then_resume(
    point: tuple[Action, Phase], make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str,
    old_creds: Credentials,
) -> None:
    new = exchange.add()
    before = vault.get_key(key_id)
    m = make_machine(hook=crash_at(point))
    with pytest.raises(Crash):
        asyncio.run(drive(m, new))
    check_invariants(exchange, vault, key_id, old_creds, new)

    resumed = make_machine()  # a new process: reads the state and the journal, nothing else
    journal = Journal(vault.db)
    if point == HAPPY_PATH_POINTS[-1]:
        assert resumed.rotation is None  # killed after the last entry: nothing left to resume
        assert m.rotation is not None
        rot = journal.get(m.rotation.id)
    else:
        assert resumed.rotation is not None
        asyncio.run(drive(resumed, new))
        rot = resumed.rotation
    check_invariants(exchange, vault, key_id, old_creds, new)
    assert rot is not None and rot.state is Step.DONE
    after = vault.get_key(key_id)
    assert after.id == before.id and after.label == before.label and after.fingerprint == rot.new_fingerprint
    assert vault.secrets.get(key_id, CURRENT) == new and vault.secrets.get(key_id, PENDING) is None
    assert exchange.keys[old_creds.api_key].revoked and exchange.works(new)
    assert exchange.count("revoke") == 1, "the exchange was asked to delete the old key twice"
    # The new key's sharings are exactly the kept consumers, once, from the rotation day; the old ones all closed.
    day = rot.finished_at.date()  # type: ignore[union-attr]
    assert [(e.service, e.shared_at) for e in after.exposures if e.active] == [("3commas", day)]
    assert sorted(e.service for e in after.exposures if not e.active) == ["3commas", "file:/home/u/bot/config.json"]
    assert all(e.revoked_at == day for e in after.exposures if not e.active)
    done = Counter(e.action for e in Journal(vault.db).entries(rot.id) if e.phase is Phase.DONE)
    assert all(n == 1 for n in done.values()), done
    assert set(done) == {a for a, ph in HAPPY_PATH_POINTS if ph is Phase.DONE}


@pytest.mark.parametrize("point", [(Action.REVOKE, Phase.BEGIN)], ids=["revoke-sent-then-killed"])
def test_a_delete_that_got_through_before_the_crash_is_not_sent_again(
    point: tuple[Action, Phase], make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str,
    old_creds: Credentials,
) -> None:
    """The worst moment: the exchange deleted the key, the process died before journalling it."""
    new = exchange.add()
    m = make_machine()
    m.start(asyncio.run(m.plan()))
    asyncio.run(m.store_new_key(new))
    asyncio.run(m.test_new_key())
    m.confirm_consumers(tick_all=True)

    real_revoke = exchange.revoke

    async def revoke_then_die(ex: str, creds: Credentials):  # type: ignore[no-untyped-def]
        await real_revoke(ex, creds)
        raise Crash("killed after the request")

    m.ops.revoke = revoke_then_die
    with pytest.raises(Crash):
        asyncio.run(m.revoke_old())
    resumed = make_machine()
    assert resumed.interrupted() is Action.REVOKE and not resumed.can_cancel() and not resumed.can_back()
    asyncio.run(drive(resumed, new))
    assert exchange.count("revoke") == 1
    assert resumed.rotation is not None and resumed.rotation.data["revoke"]["ok"] is True


async def drive_keypair(m: RotationMachine, exchange: FakeExchange, api_keys: dict[str, str]) -> None:
    """What `rotate --yes --generate-keypair rsa` does, the user registering each public key as it is shown: the
    fake exchange hands out one API key per public key (``api_keys``: public key PEM -> API key)."""
    if m.rotation is None:
        m.start(await m.plan())
    while m.step not in TERMINAL:
        step = m.step
        if step is Step.NEW_KEY:
            if m.keypair_waiting() is None:
                await m.generate_keypair("rsa")
            public = await m.public_key()
            assert public is not None
            if public not in api_keys:
                api_keys[public] = exchange.add(permissions={"read", "spot_trade"}).api_key  # "registered"
            await m.store_keypair_api_key(api_keys[public])
        elif step is Step.TEST_NEW:
            assert (await m.test_new_key()).verdict is Verdict.PASSED
        elif step is Step.CONSUMERS:
            m.confirm_consumers(tick_all=True)
        elif step is Step.REVOKE_OLD:
            await m.revoke_old()
        elif step is Step.VERIFY_OLD:
            assert (await m.verify_old_dead(timeout=0)).dead
        elif step is Step.FINISH:
            await m.finish()


def test_a_keypair_run_journals_exactly_its_path(make_machine: Make, exchange: FakeExchange) -> None:
    m = make_machine()
    asyncio.run(drive_keypair(m, exchange, {}))
    entries = Journal(m.vault.db).entries(m.rotation.id)  # type: ignore[union-attr]
    assert [(e.action, e.phase) for e in entries] == list(KEYPAIR_PATH_POINTS)


@pytest.mark.parametrize("point", KEYPAIR_PATH_POINTS, ids=lambda p: f"{p[0].value}:{p[1].value}")
def test_keypair_crash_at_every_point_then_resume(
    point: tuple[Action, Phase], make_machine: Make, exchange: FakeExchange, vault: Vault, key_id: str,
    old_creds: Credentials,
) -> None:
    api_keys: dict[str, str] = {}
    m = make_machine(hook=crash_at(point))
    with pytest.raises(Crash):
        asyncio.run(drive_keypair(m, exchange, api_keys))
    current = vault.secrets.get(key_id, CURRENT)
    assert current == old_creds or exchange.keys[old_creds.api_key].revoked
    resumed = make_machine()
    if point != KEYPAIR_PATH_POINTS[-1]:
        assert resumed.rotation is not None
        asyncio.run(drive_keypair(resumed, exchange, api_keys))
    after = vault.secrets.get(key_id, CURRENT)
    assert after is not None and "PRIVATE KEY" in after.secret and after.api_key in api_keys.values()
    assert vault.secrets.get(key_id, PENDING) is None
    assert exchange.keys[old_creds.api_key].revoked and exchange.works(after)
    assert exchange.count("revoke") == 1
    # The database never holds the key pair: neither the private nor the public key.
    dump = "\n".join(str(tuple(r)) for t in ("rotations", "rotation_journal", "keys", "inspections")
                     for r in vault.db.query(f"SELECT * FROM {t}"))
    assert "PRIVATE KEY" not in dump and "PUBLIC KEY" not in dump
