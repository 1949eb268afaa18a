"""Inspect many keys at once: every exchange in parallel, each paced to its own rate limit.

One slow or failing exchange never holds up the others: each key is its own task, and the only thing tasks of the
same exchange share is that exchange's pacer. All clients share one aiohttp session (one connection pool).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import heapq
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges.client import shared_ssl_context
from keyhygiene.exchanges.limits import RateLimit, budget_for

log = logging.getLogger(__name__)

# The simulator (like exchanges, which count in coarse buckets) tolerates arrivals up to 10% early; a few ms
# more here keeps the scheduler's own timer resolution out of that margin.
_WINDOW_SLACK_S = 0.005


class Slot:
    """One request's place in a window. ``at`` moves to the moment its headers hit the socket (see
    ``_mark_sent``): a new connection or a busy event loop delays a request after it took its slot, and the
    exchange counts it when it arrives, not when we decided to send it.

    ``held``: a request took this place and has not gone on the wire yet. Such a place cannot expire: the window
    it counts against begins only when it is sent. (Counting it from when it was taken let a request whose client
    took 1.6 s to build on a busy machine go out together with the next window's, and the exchange refused the
    whole second burst with 429s: tests/integration/test_audit_runner.py, the paced audit.)"""

    __slots__ = ("at", "held")

    def __init__(self, at: float, held: bool = False) -> None:
        self.at = at
        self.held = held

    def sent(self, now: float) -> None:
        self.at = max(self.at, now)
        self.held = False

    def void(self) -> None:
        """Its request never went on the wire (it failed first, or its check ended): the exchange never counted
        it, so the place is free again."""
        self.at = -math.inf
        self.held = False


_in_flight: contextvars.ContextVar[list[Slot] | None] = contextvars.ContextVar("kh_in_flight", default=None)


class Pacer:
    """At most ``limit.requests`` starts in any window of ``limit.per_seconds`` (sliding window, bursts allowed).

    Bursts matter: an exchange allowing 10 requests a second should get 10 at once, then 10 more a second later;
    spacing them evenly would make the audit up to twice as slow as the limit allows.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.window = limit.per_seconds + _WINDOW_SLACK_S
        self.slots: deque[Slot] = deque()

    async def acquire(self, *, hold: bool = False) -> Slot:
        """A place in the window; ``hold``: taken for a request not yet sent (``Slot.held``), from this moment on
        (a place taken for the next request while the chain still waits on its other pacers must not expire)."""
        while True:
            now = time.monotonic()
            live = [s for s in self.slots if s.held or now - s.at < self.window]
            if len(live) != len(self.slots):
                self.slots = deque(live)
            if len(live) < self.limit.requests:
                slot = Slot(now, hold)  # no await between the check and this: tasks cannot overtake
                self.slots.append(slot)
                return slot
            # The first place to free up: a sent slot's window end; a held one ends a window after it is sent,
            # so not before a window from now.
            ends = min(now + self.window if s.held else s.at + self.window for s in live)
            await asyncio.sleep(max(0.001, ends - now))


class PacerGroup:
    """The pacers of one budget scope: one for the whole scope, or one per endpoint path where the exchange
    counts endpoints separately (``Budget.per_endpoint``). ``prefix`` is the endpoint override's own path, so a
    request URL and an adapter's documented path name the same endpoint."""

    def __init__(self, limit: RateLimit, per_endpoint: bool, prefix: str = "") -> None:
        self.limit, self.per_endpoint, self.prefix = limit, per_endpoint, prefix.rstrip("/")
        self.pacers: dict[str, Pacer] = {}

    def endpoint_of(self, url_or_path: str | None) -> str:
        if not self.per_endpoint or not url_or_path:
            return ""
        path = urlsplit(url_or_path).path or url_or_path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):]
        return path

    def get(self, url_or_path: str | None) -> Pacer:
        key = self.endpoint_of(url_or_path)
        pacer = self.pacers.get(key)
        if pacer is None:
            pacer = self.pacers[key] = Pacer(self.limit)
        return pacer


class PacerChain:
    """Both budgets of one key: its per-key pacer(s), then the exchange's shared per-IP pacer(s)."""

    def __init__(self, *groups: PacerGroup | None) -> None:
        self.groups = [g for g in groups if g is not None]
        self._reserved: dict[str, list[Slot]] = {}

    async def reserve(self, path: str | None = None) -> None:
        """Take the slots of the key's first request (to ``path``, its key-info endpoint) now, before the key's
        ccxt client is built (~5 ms of CPU each): keys whose exchange has no room yet wait here instead of
        building clients up front, which in a 200-key audit delayed every exchange's first answers by over a
        second (tests/benchmarks, audit_critical_path)."""
        key = self._key(path)
        if key not in self._reserved:
            self._reserved[key] = [await g.get(path).acquire(hold=True) for g in self.groups]

    def _key(self, url_or_path: str | None) -> str:
        return self.groups[0].endpoint_of(url_or_path) if self.groups else ""

    async def acquire(self, url: str | None = None) -> list[Slot]:
        """The places of one request to ``url``, held until it is sent (``_mark_sent``) or ``settle``d."""
        slots = self._reserved.pop(self._key(url), None)
        if slots is None:
            slots = [await g.get(url).acquire(hold=True) for g in self.groups]
        # Same task as the request that follows: the session's trace hook finds these slots through the context.
        _in_flight.set(slots)
        return slots

    @staticmethod
    def settle(slots: list[Slot]) -> None:
        """After the request that took ``slots`` ended: a place it never sent is freed."""
        for s in slots:
            if s.held:
                s.void()

    def release_reserved(self) -> None:
        """When the key's check ends: the places reserved for a first request it never made are freed."""
        for slots in self._reserved.values():
            self.settle(slots)
        self._reserved.clear()


async def _mark_sent(_session: Any, _ctx: Any, _params: Any) -> None:
    slots = _in_flight.get()
    if slots:
        now = time.monotonic()
        for s in slots:
            s.sent(now)
        _in_flight.set(None)
    started = _starting.get()
    if started is not None:
        _starting.set(None)
        started()


START_WIDTH = 4  # checks between their start and their first request on the wire (StartGate)

# The release of the current task's place in the StartGate, called when its first request is on the wire.
_starting: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("kh_starting", default=None)


class StartGate:
    """At most ``width`` checks between their start and their first request on the wire; the most urgent first
    (``start_ranks``).

    Starting a check - building its ccxt client, signing, opening a connection - is about 1.5 ms of CPU on the
    event loop before the request leaves. Started all at once, the first rate-limit window's hundred-odd keys
    made one turn of the loop of ~0.2 s, during which no connection could complete: the exchange on the audit's
    critical path sent its first requests only after it, and its whole chain of windows moved back with them
    (tests/benchmarks, audit_critical_path and team_audit). Through the gate the most urgent keys' requests leave
    first and at once, and the network events of the keys already started get through between the others'
    starts. A place is held until the key's first request is sent (``_mark_sent``) or its check ends."""

    def __init__(self, width: int | None = None) -> None:
        self._free = START_WIDTH if width is None else width
        self._waiting: list[tuple[Rank, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._admitting = False

    async def enter(self, rank: Rank) -> Callable[[], None]:
        """Wait for a place, lowest ``rank`` first (``start_ranks``); returns its release (idempotent). The first
        decision waits for the loop's next turn, so that keys created together are admitted by rank, not in the
        order they were created."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (rank, self._seq, fut))
        self._seq += 1
        if not self._admitting:
            self._admitting = True
            loop.call_soon(self._admit)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()  # admitted, then cancelled before it could start: the place goes on
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._release()

        return release

    def _release(self) -> None:
        self._free += 1
        self._admit()

    def _admit(self) -> None:
        self._admitting = False
        while self._free > 0 and self._waiting:
            fut = heapq.heappop(self._waiting)[2]
            if not fut.done():  # a cancelled key's place is skipped
                fut.set_result(None)
                self._free -= 1


# A nominal round trip for ordering the checks' starts (start_urgency); not a limit, and not measured.
NOMINAL_LATENCY_S = 0.2


def start_urgency(exchange: str, index: int, n_keys: int, limit: RateLimit | None = None,
                  latency_s: float = NOMINAL_LATENCY_S) -> float:
    """How urgent it is to start the check of the ``index``-th of ``n_keys`` keys of ``exchange`` in an audit: the
    time that exchange's own schedule still needs once this key's per-IP window opens (``critical_path_seconds``
    of its keys, with the adapter's requests in turn, minus when the key's window opens). The first window of the
    exchange that bounds the audit (BingX: three requests in turn) is the most urgent; an exchange whose keys all
    fit in one window has time, and a key that waits for a later window anyway is not urgent. ``limit`` overrides
    the exchange's per-IP limit, as ``inspect_many``'s ``rate_limits`` does."""
    lim = limit or budget_for(exchange).per_ip
    rate_limits = {exchange: limit} if limit is not None else None
    whole = critical_path_seconds({exchange: n_keys}, latency_s, rate_limits,
                                  requests_per_key={exchange: _requests_in_turn(exchange)})
    return whole - (index // lim.requests) * lim.per_seconds


def _requests_in_turn(exchange: str) -> int:
    from keyhygiene.exchanges.adapters import get_adapter

    try:
        adapter = get_adapter(exchange)
    except Exception:  # noqa: BLE001 - the inspection reports a broken adapter; ordering must not
        return 1
    return adapter.requests_in_turn if adapter is not None else 1


Rank = tuple[float, int]  # sorts soonest first: (-start_urgency, the key's number within its exchange)


def start_ranks(items: Sequence[tuple[str, str]], rate_limits: Mapping[str, RateLimit] | None = None
                ) -> dict[str, Rank]:
    """The order to start the checks of ``(key_id, exchange)`` items in (each exchange's keys numbered in the order
    given): the most urgent first (``start_urgency``), and among keys as urgent, one key of each exchange in turn."""
    totals: dict[str, int] = {}
    for _key_id, exchange in items:
        totals[exchange] = totals.get(exchange, 0) + 1
    seen: dict[str, int] = {}
    out: dict[str, Rank] = {}
    for key_id, exchange in items:
        n = seen.get(exchange, 0)
        seen[exchange] = n + 1
        out[key_id] = (-start_urgency(exchange, n, totals[exchange], (rate_limits or {}).get(exchange)), n)
    return out


def _shared_session() -> Any:
    import aiohttp

    ctx = shared_ssl_context()
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_mark_sent)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=200, enable_cleanup_closed=True),
                                 trace_configs=[trace])


_frozen_by_audits = 0


@contextmanager
def _collector_held_off() -> Iterator[None]:
    """Keep Python's full collections off the objects that exist when the audit starts, until it ends.

    A process that has loaded ccxt holds over a million long-lived objects (modules, classes, functions); a full
    collection walks them all, ~70-100 ms during which no request is sent and no answer read - seen at the start
    of an audit, where it delays the first requests of the exchange that bounds the whole audit. ``gc.freeze``
    moves them out of the collector's sight (O(1)); objects made during the audit are collected as usual, and
    ``gc.unfreeze`` hands everything back at the end. Only where automatic collection is on: a process that runs
    the collector itself (the window, ui/gc_guard.py) freezes on its own terms and is left alone."""
    global _frozen_by_audits
    mine = gc.isenabled() and (_frozen_by_audits > 0 or gc.get_freeze_count() == 0)
    if mine:
        if _frozen_by_audits == 0:
            gc.freeze()
        _frozen_by_audits += 1
    try:
        yield
    finally:
        if mine:
            _frozen_by_audits -= 1
            if _frozen_by_audits == 0:
                gc.unfreeze()


# A key's secret still to be read (a team vault's server call): awaited by the key's own task just before its check,
# so reading the secrets overlaps the exchanges' round trips instead of preceding them all. None: no check (the
# source has recorded why).
CredentialSource = Callable[[], Awaitable[Credentials | None]]


async def inspect_many(
    items: Sequence[tuple[str, str, Credentials | CredentialSource]],
    *,
    endpoints: Mapping[str, str] | None = None,
    declared: Mapping[str, list[str] | None] | None = None,
    on_result: Callable[[str, KeyProfile], None] | None = None,
    cancel: asyncio.Event | None = None,
    rate_limits: Mapping[str, RateLimit] | None = None,
) -> dict[str, KeyProfile]:
    """Inspect ``(key_id, exchange, creds)`` items; returns key_id → profile. Cancelled keys are left out, and so
    are keys whose ``creds`` is a ``CredentialSource`` that gave None."""
    from keyhygiene.exchanges.inspect import inspect_key

    ip_groups: dict[str, PacerGroup] = {}
    results: dict[str, KeyProfile] = {}
    session = _shared_session()
    gate = StartGate()
    ranks = start_ranks([(k, ex) for k, ex, _c in items], rate_limits)

    async def one(key_id: str, exchange: str, source: Credentials | CredentialSource) -> None:
        budget = budget_for(exchange)
        ip_limit = (rate_limits or {}).get(exchange) or budget.per_ip
        prefix = urlsplit((endpoints or {}).get(exchange, "")).path
        pacer = PacerChain(
            PacerGroup(budget.per_key, budget.per_endpoint, prefix) if budget.per_key else None,
            ip_groups.setdefault(exchange, PacerGroup(ip_limit, budget.per_endpoint, prefix)),
        )
        if cancel is not None and cancel.is_set():
            return
        await pacer.reserve(_first_path(exchange))
        try:
            release = await gate.enter(ranks[key_id])
        except BaseException:  # cancelled while waiting its turn: its reserved places must not stay held
            pacer.release_reserved()
            raise
        creds: Credentials | None = None
        try:
            if cancel is not None and cancel.is_set():
                return
            # A secret still to be read is asked for only now, when the key's turn has come: the vault reads a
            # bounded way ahead of the keys that asked (team_vault.SecretReads), so it is in hand by then, and
            # the reads of the keys whose turn is far off do not compete with the urgent keys' starts.
            creds = source if isinstance(source, Credentials) else await source()
            if creds is None:
                return  # the source recorded why
            _starting.set(release)  # this task's first request on the wire frees its place (_mark_sent)
            profile = await inspect_key(
                exchange, creds, endpoints=endpoints, declared_permissions=(declared or {}).get(key_id),
                session=session, pacer=pacer,
            )
        except Exception as exc:  # noqa: BLE001 - inspect_key should not raise; if it does, only this key fails
            log.exception("inspect of key %s crashed", key_id)
            profile = KeyProfile(exchange=exchange, key=mask_key(creds.api_key) if creds else "", status=Status.ERROR,
                                 message=f"Internal error while checking this key ({type(exc).__name__}).")
        finally:
            release()
            pacer.release_reserved()
        results[key_id] = profile
        if on_result is not None:
            on_result(key_id, profile)

    with _collector_held_off():
        tasks = [asyncio.create_task(one(k, ex, c)) for k, ex, c in items]
        try:
            if cancel is None:
                await asyncio.gather(*tasks)
            else:
                waiter = asyncio.create_task(cancel.wait())
                pending = set(tasks)
                while pending:
                    done, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
                    pending.discard(waiter)
                    if waiter in done:
                        for t in pending:
                            t.cancel()
                        await asyncio.gather(*pending, return_exceptions=True)
                        break
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)
        finally:
            await session.close()
    return results


# What service.audit asks before handing a team vault's secrets over as sources (an inspector without this mark, such
# as a test's fake, gets every secret read up front).
inspect_many.accepts_credential_sources = True  # type: ignore[attr-defined]


def _first_path(exchange: str) -> str | None:
    from keyhygiene.exchanges.adapters import get_adapter

    try:
        adapter = get_adapter(exchange)
    except Exception:  # noqa: BLE001 - the inspection reports a broken adapter; pacing must not
        return None
    return adapter.key_info.path if adapter is not None else None


def critical_path_seconds(counts: Mapping[str, int], latency_s: float,
                          rate_limits: Mapping[str, RateLimit] | None = None,
                          requests_per_key: Mapping[str, int] | None = None) -> float:
    """The shortest wall time the exchanges' per-IP limits allow for ``counts`` keys per exchange.

    With n requests and at most r per window w, the last request cannot start before floor((n-1)/r)*w and then
    takes one round trip; a key that needs m requests in turn also takes at least m round trips. With one window
    for the whole exchange that is all: a key's first requests go out early in the schedule, only its last one
    need be late. Where each endpoint has its own window (``Budget.per_endpoint``), every key's chain starts at
    the same first endpoint, so the last key to get a slot there still has all m round trips ahead of it.
    Exchanges run in parallel, so the audit's lower bound is the slowest exchange's.
    """
    worst = 0.0
    for ex, n_keys in counts.items():
        if n_keys <= 0:
            continue
        m = (requests_per_key or {}).get(ex, 1)
        budget = budget_for(ex)
        lim = (rate_limits or {}).get(ex) or budget.per_ip
        if budget.per_endpoint:
            bound = ((n_keys - 1) // lim.requests) * lim.per_seconds + m * latency_s
        else:
            n = n_keys * m
            bound = max(((n - 1) // lim.requests) * lim.per_seconds + latency_s, m * latency_s)
        worst = max(worst, bound)
    return worst
