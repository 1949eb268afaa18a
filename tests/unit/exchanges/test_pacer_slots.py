"""A pacer's window counts from when a request is sent, not from when it took its place.

The bug these catch: the first request of a key took its place, then its ccxt client took over a second to build
(a busy machine); its place looked expired by then, so the next window's requests were let through and went out
together with it, and the exchange refused them with 429s (the paced-audit integration test failed under load).
"""

from __future__ import annotations

import asyncio

from keyhygiene.exchanges.audit_runner import Pacer, PacerChain, PacerGroup, _in_flight, _mark_sent
from keyhygiene.exchanges.limits import RateLimit

WINDOW = 0.05


async def _send(slots_holder: list) -> None:  # type: ignore[type-arg]
    """What the session's trace hook does when a request's headers hit the socket."""
    _in_flight.set(slots_holder)
    await _mark_sent(None, None, None)


def test_a_place_taken_but_not_yet_sent_does_not_expire() -> None:
    async def go() -> tuple[bool, bool]:
        chain = PacerChain(PacerGroup(RateLimit(2, WINDOW), per_endpoint=False))
        first = await chain.acquire("/a")
        second = await chain.acquire("/a")
        third = asyncio.create_task(chain.acquire("/a"))
        await asyncio.sleep(WINDOW * 4)  # four windows pass; neither request has gone on the wire yet
        waited = not third.done()
        await _send(first)
        await _send(second)
        await asyncio.sleep(WINDOW / 5)
        still_waiting = not third.done()  # a window must pass from the send, not from the taking
        await asyncio.wait_for(third, WINDOW * 20)
        return waited, still_waiting

    waited, still_waiting = asyncio.run(go())
    assert waited
    assert still_waiting


def test_a_place_whose_request_never_went_out_is_freed() -> None:
    async def go() -> bool:
        chain = PacerChain(PacerGroup(RateLimit(1, 60.0), per_endpoint=False))  # a window far longer than the test
        slots = await chain.acquire("/a")
        chain.settle(slots)  # the request failed before sending (connection refused)
        await asyncio.wait_for(chain.acquire("/a"), 5)
        return True

    assert asyncio.run(go())


def test_a_sent_place_still_counts_for_its_whole_window() -> None:
    async def go() -> bool:
        chain = PacerChain(PacerGroup(RateLimit(1, 60.0), per_endpoint=False))
        slots = await chain.acquire("/a")
        await _send(slots)
        chain.settle(slots)  # the request ended after it was sent: the exchange counted it
        nxt = asyncio.create_task(chain.acquire("/a"))
        await asyncio.sleep(0.05)
        blocked = not nxt.done()
        nxt.cancel()
        return blocked

    assert asyncio.run(go())


def test_reserved_places_are_freed_when_the_check_ends_without_a_request() -> None:
    async def go() -> bool:
        group = PacerGroup(RateLimit(1, 60.0), per_endpoint=False)
        PacerChain(group)  # another key of the same exchange shares the group
        first = PacerChain(group)
        await first.reserve("/a")
        first.release_reserved()  # e.g. its secret could not be read
        await asyncio.wait_for(PacerChain(group).acquire("/a"), 5)
        return True

    assert asyncio.run(go())


def test_a_bare_pacer_still_counts_from_the_taking() -> None:
    """Used without a request (no hold), a place expires a window after it was taken, as before."""

    async def go() -> bool:
        p = Pacer(RateLimit(1, WINDOW))
        await p.acquire()
        await asyncio.wait_for(p.acquire(), WINDOW * 40)
        return True

    assert asyncio.run(go())


def test_a_place_taken_while_the_chain_waits_on_its_next_pacer_does_not_expire() -> None:
    """A request takes its per-key place, then waits for a per-IP one: the per-key place is held from the moment it
    is taken, not only once the whole chain has its places."""

    async def go() -> bool:
        per_key = PacerGroup(RateLimit(1, WINDOW), per_endpoint=False)
        per_ip = PacerGroup(RateLimit(1, 60.0), per_endpoint=False)
        await PacerChain(per_ip).acquire("/a")  # another key's request holds the only per-IP place, unsent
        first = asyncio.create_task(PacerChain(per_key, per_ip).acquire("/a"))
        await asyncio.sleep(WINDOW * 4)  # ``first`` took its per-key place and still waits for the per-IP one
        second = asyncio.create_task(PacerChain(per_key).acquire("/a"))  # the same key's next request
        await asyncio.sleep(WINDOW * 4)
        blocked = not second.done()
        first.cancel()
        second.cancel()
        return blocked

    assert asyncio.run(go())
