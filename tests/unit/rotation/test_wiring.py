"""The machine's real collaborators: the exposure registry and the hygiene rules."""

from __future__ import annotations

import asyncio
import sys
from datetime import date

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.assessment import Consumer
from keyhygiene.core.rotation.machine import RotationMachine
from keyhygiene.service.rotation_session import policy_assessor, registry_services
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.rotation_fakes import FakeExchange


def test_registry_services_give_names_ip_sources_and_needs() -> None:
    lookup = registry_services()
    info = lookup("3commas")
    assert info is not None and info.name == "3Commas" and info.needs == "trade"
    assert info.ips_published == "yes" and info.ips_url
    assert lookup("file:/home/u/config.json") is None
    assert lookup("someone's private script") is None
    c = Consumer(id="3commas", name=info.name, kind="service", ips=list(info.ips), ips_published=info.ips_published,
                 ips_url=info.ips_url, needs=info.needs)
    assert c.ips_hint and info.ips_url in c.instruction  # type: ignore[operator]


def test_policy_findings_reach_the_plan_and_the_new_key_test(vault: Vault) -> None:
    exchange = FakeExchange()
    old = exchange.add(permissions={"read", "spot_trade", "withdraw"}, ip_restricted=False)
    rec = vault.add_key("bybit", "bot", old, purpose="bot", shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    m = RotationMachine(vault, rec.id, exchange.ops(), services=registry_services(), assess=policy_assessor(vault),
                        hook=None)
    plan = asyncio.run(m.plan())
    rules = {f.rule for f in plan.findings}
    assert rules, "the old key, withdraw-enabled and shared with 3Commas in 2022, must have findings"
    assert any("3commas" in r.lower() or "3Commas" in r for r in plan.reasons)
    m.start(plan)
    risky: Credentials = exchange.add(permissions={"read", "withdraw"}, ip_restricted=False)
    asyncio.run(m.store_new_key(risky))
    report = asyncio.run(m.test_new_key())
    assert report.findings, "a withdraw-enabled unrestricted key must draw findings from the rules"
    # The new key is judged as unshared: no exposure finding may carry over from the old key.
    assert not any("3commas" in (f["title"] + f["detail"]).lower() for f in report.findings)


@pytest.mark.parametrize("module", ["keyhygiene.core.rules", "keyhygiene.core.policy", "keyhygiene.core.registry"])
def test_policy_assessor_does_not_hide_a_broken_import(vault: Vault, module: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules are part of the package: a failing import is a bug to see, not a rotation without findings."""
    parent, _, name = module.rpartition(".")
    monkeypatch.setitem(sys.modules, module, None)  # makes importing it raise ImportError...
    monkeypatch.delattr(sys.modules[parent], name, raising=False)  # ...``from parent import name`` too
    with pytest.raises(ImportError):
        policy_assessor(vault)
