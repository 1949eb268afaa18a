"""The demo finishes every rotation (issue 17 item 3): each sample key, through the same flow the wizard renders,
against the demo's own simulator. The user's part on the exchange's page is what the simulator's console does:
create the new key, delete the old one. Every page the flow links to is the simulator's, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from keyhygiene.core.rotation.flow import Inputs, Outcome, RotationFlow
from keyhygiene.core.rotation.states import Step, Verdict
from keyhygiene.demo import DemoEnvironment, start_demo
from keyhygiene.service.rotation_session import open_flow
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.vault import Vault
from tests.helpers.secrets_watch import register_secret
from tests.helpers.simkeys import creds_of


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[DemoEnvironment, Vault]]:
    env = start_demo(latency=0.0)
    vault = Vault(env.paths, backend=env.keyring)
    try:
        yield env, vault
    finally:
        vault.close()
        env.close()


async def rotate_like_a_person(flow: RotationFlow, sim: object) -> None:
    m = flow.m
    await flow.run("load_plan")
    assert flow.plan is not None
    perms = flow.plan.suggested_permissions
    await flow.run("start")
    for link in flow.view().links:
        assert urlparse(link.url).hostname in ("127.0.0.1", "localhost"), link
    new = sim.create_key(m.key.exchange, permissions=perms, ip_whitelist=[sim.client_ip])  # type: ignore[attr-defined]
    register_secret(*creds_of(new).secret_values())
    await flow.run("store", Inputs(credentials=creds_of(new)))
    report = m.test_report()
    assert report is not None
    if report.verdict is Verdict.RISKY:
        await flow.run("accept_risk", Inputs(accept=True))
    assert flow.step is Step.CONSUMERS, report.to_json()
    await flow.run("confirm", Inputs(ticks={c.id: True for c in m.consumers()}))
    old = await asyncio.to_thread(m.vault.secrets.get, m.key_id, CURRENT)
    assert old is not None
    sim.delete_key(m.key.exchange, old.api_key)  # type: ignore[attr-defined]
    await flow.run("revoke_manual")
    flow.verify_timeout = 0
    assert await flow.run("verify") is Outcome.MOVED, flow.verify
    assert await flow.run("finish") is Outcome.DONE
    assert await asyncio.to_thread(m.vault.secrets.get, m.key_id, CURRENT) == creds_of(new)


def test_every_demo_key_rotates_to_the_end(demo: tuple[DemoEnvironment, Vault]) -> None:
    env, vault = demo
    sim = env._sim_thread.sim  # type: ignore[attr-defined]
    keys = vault.list_keys()
    assert len(keys) == env.key_count >= 10
    done = []
    for rec in keys:
        flow = open_flow(vault, rec.id, endpoints=env.endpoints, key_page=env.key_page, hook=None)
        asyncio.run(rotate_like_a_person(flow, sim))
        assert flow.step is Step.DONE
        assert vault.secrets.get(rec.id, PENDING) is None
        done.append(rec.label)
    assert len(done) == len(keys)
