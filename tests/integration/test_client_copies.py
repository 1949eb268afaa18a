"""Audit clients are copies of a cached, credential-less prototype (keyhygiene.exchanges.client._clone).

A copy shares the exchange's description with the prototype and with every other key's copy, so a leak of state
between them would make one key's answer show up as another's, with a valid signature and status ok. This test
inspects keys with different permissions concurrently (copies) and one by one with fresh clients, and requires
the same profile for every key on every simulated exchange.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from keyhygiene.core.timeutil import parse_iso
from keyhygiene.exchanges import client as client_mod
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.audit_runner import inspect_many
from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.sim import run_simulator_in_thread
from tests.helpers.simkeys import creds_of, make_key

PERMISSION_SETS = ({"read"}, {"read", "spot_trade", "withdraw"}, {"read", "futures_trade"})
CREATED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)  # fixed: some simulated exchanges derive dates from it


def test_concurrent_copies_answer_exactly_like_fresh_clients() -> None:
    with run_simulator_in_thread(latency=0.0, enforce_rate_limits=False) as sim:
        keys = [sim.add_key(make_key(ex, permissions=set(perms), created_at=CREATED,
                                     ip_whitelist=[sim.client_ip] if i else None))
                for ex in SUPPORTED for i, perms in enumerate(PERMISSION_SETS)]
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]

        async def both() -> tuple[dict, dict]:
            concurrent = await inspect_many(items, endpoints=sim.endpoints)
            alone = {}
            for key_id, ex, creds in items:
                alone[key_id] = await inspect_key(ex, creds, endpoints=sim.endpoints)
            return concurrent, alone

        concurrent, alone = asyncio.run(both())
        endpoints = dict(sim.endpoints)

    assert set(concurrent) == set(alone) == {k for k, _e, _c in items}
    for key_id, ex, _creds in items:
        assert alone[key_id].status == "ok", (ex, alone[key_id].message)
        got, want = concurrent[key_id].to_json(), alone[key_id].to_json()
        # Relative to the time of the request in the simulator: Kraken's last use, HTX's days of validity left.
        for name in ("last_used_at", "expires_at"):
            a, b = got.pop(name), want.pop(name)
            assert (a is None) == (b is None), (ex, name)
            if a is not None:
                assert abs((parse_iso(a) - parse_iso(b)).total_seconds()) < 2 * 86_400, (ex, name)
        assert got == want, ex
    # The keys of one exchange really differ, so a mix-up could not go unnoticed.
    # MEXC reports no permission beyond read (issue 15): its keys differ in the account facts it does report.
    for ex in SUPPORTED:
        answers = {(tuple(alone[k].permissions), repr(sorted((alone[k].account_facts or {}).items())))
                   for k, e, _c in items if e == ex}
        assert len(answers) > 1, ex
    # The prototypes copies are made from never hold a key.
    for ex in SUPPORTED:
        adapter = get_adapter(ex)
        copy = client_mod._clone(ex, endpoints.get(ex), adapter.ccxt_options if adapter else None)
        assert not copy.apiKey and not copy.secret, ex
