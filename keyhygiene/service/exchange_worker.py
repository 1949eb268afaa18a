"""The exchange process: the child that owns ccxt and every exchange client (``service/exchange_executor.py``).

    python -m keyhygiene.service.exchange_worker        (the bundle: ``keyhygiene --exchange-worker``)

Reads jobs from stdin and writes answers to stdout, length-prefixed pickles both ways; stdin is the private pipe
of the process that started it, and the only way a credential reaches this process. It runs the same code as the
command line does in-process (``exchanges.audit_runner.inspect_many``, ``exchanges.inspect.inspect_key``) on its
own asyncio loop, hardened like the parent (no core dumps, not dumpable), and logs only through the parent: each
record goes back scrubbed of every secret it was sent. When stdin closes (the app quits, or dies) it cancels what
runs and exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import warnings
from typing import IO, Any

from keyhygiene.core import redact
from keyhygiene.service.exchange_executor import BEAT_S, read_frame, write_frame


class _Out:
    """The answer pipe, shared by the loop and the log handler (any thread)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.broken = False

    def send(self, message: Any) -> None:
        with self.lock:
            if self.broken:
                return
            try:
                write_frame(self.stream, message)
            except (OSError, ValueError):  # the parent is gone: stdin's end will stop us
                self.broken = True


class _ToParent(logging.Handler):
    def __init__(self, out: _Out) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            self.out.send(("log", record.levelno, record.name, redact.scrub(text)))
        except Exception:  # noqa: BLE001 - logging must never take the worker down
            self.handleError(record)


class Worker:
    def __init__(self, out: _Out) -> None:
        self.out = out
        self.tasks: dict[int, asyncio.Task[Any]] = {}
        self.cancels: dict[int, asyncio.Event] = {}
        self.stopped = asyncio.Event()

    def handle(self, msg: tuple[Any, ...]) -> None:  # on the loop
        kind = msg[0]
        if kind == "inspect_many":
            _, job, items, endpoints, declared = msg
            for _k, _ex, creds in items:
                redact.remember(creds.secret_values())
            cancel = self.cancels[job] = asyncio.Event()
            self._start(job, self._inspect_many(job, items, endpoints, declared, cancel))
        elif kind == "inspect":
            _, job, exchange, creds, endpoints, declared = msg
            redact.remember(creds.secret_values())
            self._start(job, self._inspect(exchange, creds, endpoints, declared))
        elif kind == "revoke":
            _, job, exchange, creds, endpoints = msg
            redact.remember(creds.secret_values())
            self._start(job, self._revoke(exchange, creds, endpoints))
        elif kind == "cancel":
            event = self.cancels.get(msg[1])
            if event is not None:
                event.set()  # inspect_many stops its keys and returns what it has
            elif msg[1] in self.tasks:
                self.tasks[msg[1]].cancel()

    def _start(self, job: int, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks[job] = task
        task.add_done_callback(lambda t: self._finished(job, t))

    def _finished(self, job: int, task: asyncio.Task[Any]) -> None:
        self.tasks.pop(job, None)
        self.cancels.pop(job, None)
        if task.cancelled():
            self.out.send(("done", job, None))
        elif task.exception() is not None:
            exc = task.exception()
            logging.getLogger(__name__).error("job %s failed", job, exc_info=exc)
            self.out.send(("error", job, redact.scrub(f"The exchange checker failed ({type(exc).__name__}).")))
        else:
            self.out.send(("done", job, task.result()))

    async def _inspect_many(self, job: int, items: list[Any], endpoints: dict[str, str],
                            declared: dict[str, Any], cancel: asyncio.Event) -> None:
        from keyhygiene.exchanges.audit_runner import inspect_many

        await inspect_many(items, endpoints=endpoints or None, declared=declared,
                           on_result=lambda key_id, p: self.out.send(("result", job, key_id, p)), cancel=cancel)

    async def _inspect(self, exchange: str, creds: Any, endpoints: dict[str, str], declared: Any) -> Any:
        from keyhygiene.exchanges.inspect import inspect_key

        return await inspect_key(exchange, creds, endpoints=endpoints or None, declared_permissions=declared)

    async def _revoke(self, exchange: str, creds: Any, endpoints: dict[str, str]) -> Any:
        from keyhygiene.exchanges.revoke import revoke_key

        return await revoke_key(exchange, creds, endpoints=endpoints or None)

    async def beat(self) -> None:
        """Tell the parent the loop is alive while there is work (it kills a child that falls silent)."""
        while not self.stopped.is_set():
            if self.tasks:
                self.out.send(("beat",))
            try:
                await asyncio.wait_for(self.stopped.wait(), BEAT_S)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        for event in self.cancels.values():
            event.set()
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


def _reader(stream: IO[bytes], loop: asyncio.AbstractEventLoop, worker: Worker) -> None:
    try:
        while (msg := read_frame(stream)) is not None:
            loop.call_soon_threadsafe(worker.handle, msg)
    except Exception:  # noqa: BLE001 - a garbled pipe ends the worker like a closed one
        logging.getLogger(__name__).exception("reading a job failed")
    finally:
        loop.call_soon_threadsafe(worker.stopped.set)


async def _serve(stdin: IO[bytes], out: _Out) -> None:
    worker = Worker(out)
    loop = asyncio.get_running_loop()
    threading.Thread(target=_reader, args=(stdin, loop, worker), name="exchange-worker-reader", daemon=True).start()
    beat = asyncio.ensure_future(worker.beat())
    await worker.stopped.wait()
    await worker.stop()
    await beat


# Measured on a busy 2-core machine (load ~2.5), six interleaved runs each of the app's 200-key audit: the window's
# longest stall was 21-105 ms (median 43) with the child at the window's priority, 15-36 ms (median 22) at +10, and
# the audit no slower (2.5-3.2 s against 2.5-3.7 s). Windows: BELOW_NORMAL_PRIORITY_CLASS, set by the parent.
WORKER_NICE = 10


def _lower_priority() -> None:
    """Yield the CPU to the window: on a busy machine the scheduler then runs the GUI thread first when both
    want a core (the checks wait on the network most of the time; their CPU work is never urgent)."""
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICE)
        except OSError:
            pass


# Imported by a library here but never used here; ``import`` of these raises ImportError in this process.
# ``requests`` comes with ccxt's synchronous base (the async classes extend it) and looks for a character detector
# at import; charset_normalizer's import then loads every codec of the standard library, CJK ones included (~100
# modules, 3.5 MB of this process's ~76 MB peak, tests/benchmarks: memory). requests supports having no detector
# (it only guesses the encoding of a ``requests`` reply without a charset); this process sends every request
# through ccxt.async_support, whose replies aiohttp decodes.
UNUSED_MODULES = ("charset_normalizer", "chardet")


def skip_unused_imports() -> None:
    """Before ccxt is imported: keep ``UNUSED_MODULES`` out of this process (one already imported stays)."""
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None in sys.modules: ImportError
    # requests' notice that it found no detector is this choice, not a fault worth a line in the parent's log
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")


def main() -> int:
    from keyhygiene.hardening import harden_process

    harden_process()
    _lower_priority()
    skip_unused_imports()
    # The answer pipe is the original stdout; anything else that prints (a library's warning) goes to stderr
    # instead of corrupting it. File descriptors, not sys.std*: a windowed bundle on Windows has no sys.stdout.
    out = _Out(os.fdopen(os.dup(1), "wb"))
    try:
        os.dup2(2, 1)
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    stdin = os.fdopen(os.dup(0), "rb")
    root = logging.getLogger()
    root.handlers[:] = [_ToParent(out)]
    root.setLevel(logging.INFO)
    # Before anything imports ccxt: load only the exchanges the jobs name (~40 MB less than all of them).
    from keyhygiene.exchanges import ccxt_loader

    ccxt_loader.install()
    asyncio.run(_serve(stdin, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
