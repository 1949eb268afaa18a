"""Where the exchange work runs: in this process, or in one child process that owns ccxt (issue 21, item 3).

Both executors offer the same coroutines, awaited on the runtime's loop:

- ``inspect_many(items, endpoints=, declared=, on_result=, cancel=)``: ``exchanges.audit_runner.inspect_many``
  (rate limits, per-IP budgets, concurrency), every key's profile handed to ``on_result`` as it arrives;
- ``inspect(exchange, creds, endpoints=, declared_permissions=)``: one key, ``exchanges.inspect.inspect_key``;
- ``revoke(exchange, creds, endpoints=)``: the rotation's revoke step, ``exchanges.revoke.revoke_key``.

``InProcessExchanges`` runs that code on the calling loop (the command line: nothing to keep responsive, and a
child would import ccxt a second time). ``ExchangeProcess`` runs the very same code in a child
(``service/exchange_worker.py``), because ccxt parsing replies on a thread of the window's process holds the GIL the
GUI thread needs for every paint: measured on a busy 2-core machine, the window's longest stall during a 200-key
audit was 234-522 ms with ccxt on a thread, 16-49 ms with ccxt in a child (tests/benchmarks/exchange_process_probe.py).

The child is started at the first check, never before (the first frame needs none of it), and again at the next
check after it died. Credentials cross only its private stdin pipe: never argv, environment or files. The parent
keeps the keychain reads, the judging and the SQLite writes (``service/audit.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from keyhygiene.core import redact
from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status

log = logging.getLogger(__name__)

OnResult = Callable[[str, KeyProfile], None]
Item = tuple[str, str, Credentials]

WORKER_FLAG = "--exchange-worker"  # the frozen bundle's hidden entry (packaging/entry_*.py)
WORKER_MODULE = "keyhygiene.service.exchange_worker"
# The child's loop says it is alive every BEAT_S while it has work; silence this long means it hangs.
BEAT_S = 1.0
HANG_TIMEOUT_S = 15.0
STOP_GRACE_S = 3.0
# With no check for this long, the child is stopped (the next check starts another, ~0.3 s): the window lives in the
# tray for days, and an idle child holds ~70 MB (ccxt, aiohttp, two interpreters' worth of modules) for nothing.
IDLE_STOP_S = 120.0
# Never handed on to the child: secrets the command line reads from the environment, tokens of the team vault.
_SECRET_ENV = ("KEYHYGIENE_API_KEY", "KEYHYGIENE_API_SECRET", "KEYHYGIENE_API_PASSPHRASE", "BAO_TOKEN",
               "VAULT_TOKEN")

CRASHED = "The exchange checker stopped unexpectedly ({why}); check again to retry."
HUNG = f"The exchange checker did not answer for {HANG_TIMEOUT_S:.0f} s and was stopped; check again to retry."
NOT_STARTED = "The exchange checker could not be started ({why})."


# ---- the pipe: length-prefixed pickles ----------------------------------------------------------------------------
_HEADER = struct.Struct(">I")


def write_frame(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = _read_exactly(stream, _HEADER.size)
    if head is None:
        return None
    body = _read_exactly(stream, _HEADER.unpack(head)[0])
    return None if body is None else pickle.loads(body)  # noqa: S301 - our own child, over a private pipe


def _read_exactly(stream: IO[bytes], n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


# ---- in this process ----------------------------------------------------------------------------------------------
class InProcessExchanges:
    """The exchange code on the calling loop (the command line)."""

    in_child = False

    async def inspect_many(self, items: Sequence[Item], *, endpoints: Mapping[str, str] | None = None,
                           declared: Mapping[str, list[str] | None] | None = None,
                           on_result: OnResult | None = None,
                           cancel: asyncio.Event | None = None) -> dict[str, KeyProfile]:
        from keyhygiene.exchanges.audit_runner import inspect_many

        return await inspect_many(items, endpoints=endpoints, declared=declared, on_result=on_result, cancel=cancel)

    # Items may carry a credential source (a coroutine function) instead of credentials: audit_runner awaits it
    # when the key's turn comes (the team vault's secrets are read while the exchanges answer; service/audit.py).
    inspect_many.accepts_credential_sources = True  # type: ignore[attr-defined]

    async def inspect(self, exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
                      declared_permissions: list[str] | None = None) -> KeyProfile:
        from keyhygiene.exchanges.inspect import inspect_key

        return await inspect_key(exchange, creds, endpoints=endpoints or None,
                                 declared_permissions=declared_permissions)

    async def revoke(self, exchange: str, creds: Credentials, *,
                     endpoints: Mapping[str, str] | None = None) -> Any:
        """The rotation's revoke step (``exchanges.revoke.revoke_key``)."""
        from keyhygiene.exchanges.revoke import revoke_key

        return await revoke_key(exchange, creds, endpoints=endpoints or None)

    def warm(self) -> None:
        """Import ccxt and the HTTP stack now (see ``exchanges/warmup.py``)."""
        from keyhygiene.exchanges.warmup import load_exchange_stack

        load_exchange_stack()

    def close(self) -> None:
        pass


# ---- in a child process -------------------------------------------------------------------------------------------
class WorkerFailed(RuntimeError):
    """The child died, hung or could not start; the text says which, and is fit to show."""


def worker_command() -> list[str]:
    """How to start the child: the frozen bundle is its own interpreter and takes the hidden flag."""
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG]
    return [sys.executable, "-m", WORKER_MODULE]


def worker_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}


@dataclass
class _Job:
    id: int
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[Any]
    proc: subprocess.Popen[bytes] | None = None
    on_result: OnResult | None = None
    # key id -> (exchange, masked key) of the keys still waiting: a crash fails exactly these
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    results: dict[str, KeyProfile] = field(default_factory=dict)

    def result(self, key_id: str, profile: KeyProfile) -> None:  # on the job's loop
        if self.done.done() or key_id not in self.waiting:
            return
        del self.waiting[key_id]
        self.results[key_id] = profile
        if self.on_result is not None:
            self.on_result(key_id, profile)

    def finish(self, value: Any) -> None:
        if not self.done.done():
            self.done.set_result(value)

    def fail(self, why: str) -> None:
        """The child is gone: every key still waiting fails with ``why``, the others keep their answers."""
        for key_id, (exchange, masked) in list(self.waiting.items()):
            self.result(key_id, KeyProfile(exchange=exchange, key=masked, status=Status.ERROR, message=why))
        if not self.done.done():
            self.done.set_exception(WorkerFailed(why))


class ExchangeProcess:
    """One child process owning ccxt and every exchange client; jobs from any loop, results over a pipe."""

    in_child = True

    def __init__(self, *, command: Sequence[str] | None = None, hang_timeout_s: float = HANG_TIMEOUT_S,
                 idle_stop_s: float = IDLE_STOP_S) -> None:
        self._command = list(command) if command is not None else None
        self.hang_timeout_s = hang_timeout_s
        self.idle_stop_s = idle_stop_s
        self._idle_timer: threading.Timer | None = None
        self.idle_stops = 0
        self._lock = threading.Lock()  # starting and stopping the child, writing to it
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs: dict[int, _Job] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._heard: dict[int, float] = {}  # child pid -> when it last said anything
        self._reader: threading.Thread | None = None
        self.starts = 0
        self.spawn_s = 0.0  # how long the last Popen took (it holds the GIL): for the benchmarks' detail

    # ---- the child ---------------------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def warm(self) -> None:
        """Start the child now (it imports ccxt while the caller does something else)."""
        try:
            self._child()
        except WorkerFailed as exc:
            log.warning("%s", exc)

    def _child(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._closed:
                raise WorkerFailed(NOT_STARTED.format(why="the app is closing"))
            proc = self._proc
            if proc is not None and proc.poll() is None:
                return proc
            t0 = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    self._command or worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    env=worker_env(), close_fds=True,
                    # Windows: no console window flashing up; below the window's priority (exchange_worker.py
                    # lowers its own elsewhere).
                    creationflags=(getattr(subprocess, "CREATE_NO_WINDOW", 0)
                                   | getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)),
                )
            except OSError as exc:
                raise WorkerFailed(NOT_STARTED.format(why=redact.scrub(exc))) from None
            self.spawn_s = time.perf_counter() - t0
            self._proc = proc
            self.starts += 1
            self._heard[proc.pid] = time.monotonic()
            self._reader = threading.Thread(target=self._read, args=(proc,), name="keyhygiene-exchange-reader",
                                            daemon=True)
            self._reader.start()
            return proc

    def _send(self, proc: subprocess.Popen[bytes], message: Any) -> None:
        with self._lock:
            assert proc.stdin is not None
            write_frame(proc.stdin, message)

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        """The reader thread of one child: hands each message to the loop of the job it belongs to."""
        assert proc.stdout is not None
        try:
            while (msg := read_frame(proc.stdout)) is not None:
                self._heard[proc.pid] = time.monotonic()
                self._dispatch(msg)
        except Exception:  # noqa: BLE001 - a garbled pipe is a dead child
            log.exception("reading from the exchange checker failed")
        try:
            code = proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self._heard.pop(proc.pid, None)
        proc.stdout.close()
        with self._lock:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
        why = f"exit code {code}"
        for job in [j for j in list(self._jobs.values()) if j.proc is proc]:
            self._on_loop(job, job.fail, CRASHED.format(why=why))

    def _dispatch(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "log":
            _, level, name, text = msg
            logging.getLogger(name).log(level, "%s", redact.scrub(text))
            return
        if kind == "beat":
            return
        job = self._jobs.get(msg[1])
        if job is None:
            return
        if kind == "result":
            self._on_loop(job, job.result, msg[2], msg[3])
        elif kind == "done":
            self._on_loop(job, job.finish, msg[2])
        elif kind == "error":
            self._on_loop(job, job.fail, redact.scrub(msg[2]))

    @staticmethod
    def _on_loop(job: _Job, fn: Callable[..., Any], *args: Any) -> None:
        try:
            job.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # that loop is closed: nobody waits for the job any more
            pass

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(1.0)  # reaped at once: a killed process does not linger as a zombie
            except subprocess.TimeoutExpired:
                pass

    # ---- jobs ------------------------------------------------------------------------------------------------
    async def _run(self, job: _Job, message: tuple[Any, ...], cancel: asyncio.Event | None) -> Any:
        self._jobs[job.id] = job
        try:
            try:
                proc = job.proc = self._child()
                self._send(proc, message)
            except (WorkerFailed, OSError, ValueError) as exc:
                job.fail(str(exc) if isinstance(exc, WorkerFailed) else CRASHED.format(why=type(exc).__name__))
                return await job.done
            asked_to_stop = False
            while not job.done.done():
                if cancel is not None and cancel.is_set() and not asked_to_stop:
                    asked_to_stop = True
                    self._cancel(proc, job.id)
                waiters: list[asyncio.Future[Any]] = [job.done]
                stop: asyncio.Task[Any] | None = None
                if cancel is not None and not asked_to_stop:
                    stop = asyncio.ensure_future(cancel.wait())
                    waiters.append(stop)
                await asyncio.wait(waiters, timeout=BEAT_S, return_when=asyncio.FIRST_COMPLETED)
                if stop is not None and not stop.done():
                    stop.cancel()
                silent = time.monotonic() - self._heard.get(proc.pid, time.monotonic())
                if not job.done.done() and silent > self.hang_timeout_s:
                    log.warning("the exchange checker (pid %s) has not answered for %.0f s: stopping it",
                                proc.pid, silent)
                    self._kill(proc)
                    job.fail(HUNG)  # the reader's later "crashed" finds nothing left waiting
            return await job.done
        except asyncio.CancelledError:
            # The caller's task was cancelled (the app is closing): stop the child's work too.
            if job.proc is not None:
                self._cancel(job.proc, job.id)
            raise
        finally:
            self._jobs.pop(job.id, None)
            if not self._jobs:
                self._arm_idle_stop()

    # ---- stopping an idle child --------------------------------------------------------------------------------
    def _arm_idle_stop(self) -> None:
        """(Re)start the idle clock: the child is stopped once no job has run for ``idle_stop_s``."""
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            proc = self._proc
            if self._closed or proc is None:
                self._idle_timer = None
                return
            timer = self._idle_timer = threading.Timer(self.idle_stop_s, self._stop_if_idle, args=(proc,))
        timer.daemon = True
        timer.name = "keyhygiene-exchange-idle"
        timer.start()

    def _stop_if_idle(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            # A job registers itself before it asks for the child (``_run``): none registered means none uses it,
            # and one that comes after this starts a new child.
            if self._closed or self._proc is not proc or self._jobs or self._idle_timer is None:
                return
            self._proc = None
            self._idle_timer = None
            self.idle_stops += 1
        log.info("the exchange checker (pid %s) had nothing to do for %.0f s: stopped until the next check",
                 proc.pid, self.idle_stop_s)
        self._stop(proc, STOP_GRACE_S)

    def _cancel(self, proc: subprocess.Popen[bytes], job_id: int) -> None:
        try:
            self._send(proc, ("cancel", job_id))
        except (OSError, ValueError):  # already gone: its reader fails the job
            pass

    def _new_job(self, on_result: OnResult | None = None) -> _Job:
        loop = asyncio.get_running_loop()
        return _Job(next(self._ids), loop, loop.create_future(), on_result=on_result)

    async def inspect_many(self, items: Sequence[Item], *, endpoints: Mapping[str, str] | None = None,
                           declared: Mapping[str, list[str] | None] | None = None,
                           on_result: OnResult | None = None,
                           cancel: asyncio.Event | None = None) -> dict[str, KeyProfile]:
        """Credentials only (no credential sources: a coroutine cannot cross the pipe), so a team vault's audit
        in the window reads its secrets before the checks start."""
        job = self._new_job(on_result)
        job.waiting = {k: (ex, mask_key(c.api_key)) for k, ex, c in items}
        message = ("inspect_many", job.id, list(items), dict(endpoints or {}), dict(declared or {}))
        try:
            await self._run(job, message, cancel)
        except WorkerFailed:
            pass  # every key still waiting got the reason as its result (an audit judges the others as usual)
        return job.results

    async def inspect(self, exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None,
                      declared_permissions: list[str] | None = None) -> KeyProfile:
        job = self._new_job()
        job.waiting = {"": (exchange.lower(), mask_key(creds.api_key))}
        message = ("inspect", job.id, exchange, creds, dict(endpoints or {}), declared_permissions)
        try:
            profile = await self._run(job, message, None)
        except WorkerFailed:
            return job.results[""]
        return profile if isinstance(profile, KeyProfile) else job.results[""]

    async def revoke(self, exchange: str, creds: Credentials, *,
                     endpoints: Mapping[str, str] | None = None) -> Any:
        """The rotation's revoke step in the child. A child that died meanwhile leaves it unconfirmed: the
        rotation then checks that the exchange rejects the old key before it deletes anything."""
        from keyhygiene.exchanges.revoke import RevokeResult

        job = self._new_job()
        try:
            return await self._run(job, ("revoke", job.id, exchange, creds, dict(endpoints or {})), None)
        except WorkerFailed as exc:
            return RevokeResult(supported=True, ok=False, message=str(exc), status=Status.ERROR)

    def close(self, timeout: float = STOP_GRACE_S) -> None:
        """Stop the child: closing its stdin tells it to cancel everything and exit; killed if it does not."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
        if proc is None:
            return
        self._stop(proc, timeout)
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout)  # it closes the answer pipe once the child's end is closed

    def _stop(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        try:
            with self._lock:
                if proc.stdin is not None:
                    proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the exchange checker did not stop within %.0f s: killing it", timeout)
            proc.kill()
            proc.wait()


ExchangeExecutor = InProcessExchanges | ExchangeProcess
