"""audit_runner.StartGate: at most ``width`` keys being started at once, the lowest rank first; a place goes on when
its holder releases it, gives up waiting or is cancelled after it was let in. And start_ranks: the audit's order."""

from __future__ import annotations

import asyncio

from keyhygiene.exchanges.audit_runner import StartGate, start_ranks


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_the_lowest_rank_goes_first_and_no_more_than_the_width_at_once() -> None:
    async def go() -> tuple[list[str], list[str]]:
        gate = StartGate(width=2)
        admitted: list[str] = []
        releases: dict[str, object] = {}

        async def key(name: str, rank: tuple[float, int]) -> None:
            releases[name] = await gate.enter(rank)
            admitted.append(name)

        # Created in this order, ranked otherwise: the order they were created in must not matter.
        tasks = [asyncio.create_task(key(n, r)) for n, r in
                 (("late", (0.8, 0)), ("urgent", (-0.6, 0)), ("next", (-0.2, 0)), ("after", (-0.2, 1)))]
        await _settle()
        first = list(admitted)
        releases["urgent"]()  # type: ignore[operator]
        releases["urgent"]()  # type: ignore[operator]  # idempotent: one place back, not two
        await _settle()
        second = list(admitted)
        for name in ("next", "after"):
            releases[name]()  # type: ignore[operator]
        await asyncio.gather(*tasks)
        return first, second + [n for n in admitted if n not in second]

    first, order = asyncio.run(go())
    assert first == ["urgent", "next"]
    assert order == ["urgent", "next", "after", "late"]


def test_a_cancelled_key_gives_its_place_on() -> None:
    async def go() -> list[str]:
        gate = StartGate(width=1)
        admitted: list[str] = []
        releases: dict[str, object] = {}

        async def key(name: str, rank: tuple[float, int]) -> None:
            releases[name] = await gate.enter(rank)
            admitted.append(name)

        tasks = {n: asyncio.create_task(key(n, (float(i), 0))) for i, n in enumerate(("holder", "gave_up", "let_in",
                                                                                       "last"))}
        await _settle()
        tasks["gave_up"].cancel()  # gives up while waiting: skipped
        await _settle()
        releases["holder"]()  # type: ignore[operator]  # lets "let_in" in ...
        tasks["let_in"].cancel()  # ... which is cancelled before it runs: its place goes on to "last"
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        return admitted

    assert asyncio.run(go()) == ["holder", "last"]


def test_start_ranks_put_the_longest_chains_first_and_later_windows_last() -> None:
    items = [(f"b{i}", "binance") for i in range(12)] + [(f"x{i}", "bingx") for i in range(12)]
    ranks = start_ranks(items)
    order = sorted(ranks, key=lambda k: ranks[k])
    assert order[:10] == [f"x{i}" for i in range(10)]  # BingX's first window: three requests in turn each
    assert order[10:20] == [f"b{i}" for i in range(10)]
    assert set(order[20:]) == {"b10", "b11", "x10", "x11"}  # the next window's keys wait for it anyway
    # Alike keys of different exchanges take turns.
    ranks = start_ranks([("a", "binance"), ("b", "binance"), ("c", "kraken"), ("d", "kraken")])
    assert sorted(ranks, key=lambda k: ranks[k]) == ["a", "c", "b", "d"]
