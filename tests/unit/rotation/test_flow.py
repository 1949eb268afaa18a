"""The rotation flow: what each step shows and offers, the same for the wizard and the command line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.flow import VERIFY_TIMEOUT_S, Inputs, Need, Outcome, Role, RotationFlow
from keyhygiene.core.rotation.machine import RotationError, RotationMachine
from keyhygiene.core.rotation.states import Step
from tests.helpers.rotation_fakes import FakeExchange

Make = Callable[..., RotationMachine]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def labels(flow: RotationFlow) -> dict[str, str]:
    return {c.id: c.label for c in flow.view().choices}


def test_each_step_says_what_it_offers(make_machine: Make, exchange: FakeExchange, old_creds: Credentials) -> None:
    flow = RotationFlow(make_machine())
    v = flow.view()
    assert v.step is Step.PLAN and v.auto is not None and v.auto.choice == "load_plan"
    assert run(flow.run("load_plan")) is Outcome.MOVED
    v = flow.view()
    assert v.auto is None and v.by_role(Role.NEXT).label == "Start rotation"  # type: ignore[union-attr]
    assert [(f.name, f.kind, f.value) for f in v.fields] == [("3commas", "decision", False),
                                                            ("file:/home/u/bot/config.json", "decision", True)]
    assert "3Commas \u2014 stop: does not get the new key" in "\n".join(v.text)
    run(flow.run("decide", Inputs(decisions={"3commas": True})))
    assert flow.m.rotation is None and flow.plan is not None and flow.plan.consumers[0].keep  # nothing stored yet
    run(flow.run("start"))
    assert flow.step is Step.NEW_KEY
    # Bybit takes an RSA public key: the step offers to generate the key pair here.
    assert labels(flow) == {"store": "Store new key", "generate_keypair": "Generate a key pair here",
                            "cancel": "Cancel rotation\u2026"}
    assert flow.view().choice("store").needs == (Need.CREDENTIALS,)  # type: ignore[union-attr]
    with pytest.raises(RotationError, match="Paste the new key"):
        run(flow.run("store"))
    risky = exchange.add(permissions={"read", "withdraw"})
    assert run(flow.run("store", Inputs(credentials=risky))) is Outcome.STAYED  # stored and tested at once
    v = flow.view()
    assert v.step is Step.TEST_NEW and v.auto is None
    assert labels(flow) == {"accept_risk": "Continue with this key", "replace": "Use another key\u2026",
                            "back": "Back", "cancel": "Cancel rotation\u2026"}
    with pytest.raises(RotationError, match="Tick the box"):
        run(flow.run("accept_risk"))
    run(flow.run("accept_risk", Inputs(accept=True)))
    v = flow.view()
    assert v.step is Step.CONSUMERS and v.choice("confirm").needs == (Need.TICKS,)  # type: ignore[union-attr]
    assert [f.label for f in v.fields if f.kind == "check"] == ["3Commas: updated with the new key",
                                                               "/home/u/bot/config.json: updated with the new key"]
    run(flow.run("confirm", Inputs(ticks={"3commas": True, "file:/home/u/bot/config.json": True})))
    v = flow.view()
    assert v.step is Step.REVOKE_OLD
    assert labels(flow)["revoke_api"] == "Delete old key via Bybit API" and v.choice("revoke_api").confirm  # type: ignore[union-attr]
    run(flow.run("revoke_manual"))
    v = flow.view()
    # Verify runs by itself with its timeout; "Check again" stays usable while it waits.
    assert v.step is Step.VERIFY_OLD and v.auto is not None and v.auto.timeout == VERIFY_TIMEOUT_S
    assert v.choice("verify").while_busy and v.choice("verify").label == "Check again"  # type: ignore[union-attr]
    flow.verify_timeout = 0
    assert run(flow.run("verify")) is Outcome.STAYED
    assert flow.view().attempts[0].startswith("Check 1: still alive")
    exchange.keys[old_creds.api_key].revoked = True
    assert run(flow.run("verify")) is Outcome.MOVED
    assert flow.view().auto.choice == "finish"  # type: ignore[union-attr]
    assert run(flow.run("finish")) is Outcome.DONE
    v = flow.view()
    assert v.step is Step.DONE and labels(flow) == {"close": "Close"}
    assert "shared with: 3Commas" in v.intro and "Not given the new key: /home/u/bot/config.json." not in v.intro


def test_closing_stops_the_wait_and_check_again_cuts_it_short(make_machine: Make, exchange: FakeExchange,
                                                              old_creds: Credentials) -> None:
    exchange.api_revoke = set()
    m = make_machine()
    m.sleep, m.clock = asyncio.sleep, time.monotonic  # real waits: 2 s, 4 s, … up to the 30 min timeout
    flow = RotationFlow(m)
    run(flow.run("load_plan"))
    run(flow.run("start"))
    run(flow.run("store", Inputs(credentials=exchange.add())))
    run(flow.run("confirm", Inputs(ticks={c.id: True for c in m.consumers()})))
    run(flow.run("revoke_manual"))

    async def scenario() -> tuple[Outcome, float]:
        t0 = asyncio.get_running_loop().time()
        task = asyncio.ensure_future(flow.run("verify"))
        while len(flow.attempts) < 1:
            await asyncio.sleep(0.01)
        exchange.keys[old_creds.api_key].revoked = True  # deleted on the website meanwhile...
        flow.wake()  # ..."Check again": asked at once, not after the 2 s wait
        outcome = await task
        return outcome, asyncio.get_running_loop().time() - t0

    outcome, took = run(scenario())
    assert outcome is Outcome.MOVED and len(flow.attempts) == 2 and took < 1.5


def test_closing_the_window_ends_the_wait(make_machine: Make, exchange: FakeExchange) -> None:
    exchange.api_revoke = set()
    m = make_machine()
    m.sleep, m.clock = asyncio.sleep, time.monotonic
    flow = RotationFlow(m)
    run(flow.run("load_plan"))
    run(flow.run("start"))
    run(flow.run("store", Inputs(credentials=exchange.add())))
    run(flow.run("confirm", Inputs(ticks={c.id: True for c in m.consumers()})))
    run(flow.run("revoke_manual"))

    async def scenario() -> Outcome:
        task = asyncio.ensure_future(flow.run("verify"))
        while not flow.attempts:
            await asyncio.sleep(0.01)
        flow.close()
        return await asyncio.wait_for(task, 1.5)

    assert run(scenario()) is Outcome.STAYED  # still alive; the rotation waits, saved
    assert flow.step is Step.VERIFY_OLD
