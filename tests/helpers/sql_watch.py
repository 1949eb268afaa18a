"""Which SQLite statements run on the GUI thread: a trace on the vault's connection that records, for each statement
executed on the thread that created the watch, the statement and the app's code that asked for it (issue 21 item 4).

SQLite calls the trace callback on the thread that executes the statement, inside the call: the Python stack at
that moment names the caller, so a failure says which use case still reads or writes on the GUI thread.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PACKAGE = str(Path(__file__).resolve().parents[2] / "keyhygiene")


def _callers(depth: int = 4) -> str:
    """The innermost ``depth`` frames of the app's own code above the database layer, innermost first."""
    out: list[str] = []
    f = sys._getframe(2)
    while f is not None and len(out) < depth:
        path = f.f_code.co_filename
        if path.startswith(_PACKAGE) and "/store/" not in path:
            out.append(f"{Path(path).parent.name}/{Path(path).name}:{f.f_code.co_name}")
        f = f.f_back
    return " <- ".join(out) or "(outside keyhygiene)"


@dataclass
class SqlWatch:
    """Armed, it records every statement run on the watching thread: ``(first words of the SQL, callers)``."""

    thread: int = field(default_factory=threading.get_ident)
    armed: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, db: Any) -> None:
        # The store's one connection (store/database.py); ``check_same_thread=False``, so any thread may use it.
        db._conn.set_trace_callback(self._trace)

    def detach(self, db: Any) -> None:
        try:
            db._conn.set_trace_callback(None)
        except Exception:  # noqa: BLE001 - the vault is already closed
            pass

    def _trace(self, sql: str) -> None:
        if not self.armed or threading.get_ident() != self.thread:
            return
        words = " ".join(sql.split()[:4])
        with self._lock:
            self.calls.append((words, _callers()))

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def by_caller(self) -> dict[str, int]:
        """How many statements each caller ran (for a readable failure message)."""
        counts: dict[str, int] = {}
        for _sql, where in self.calls:
            counts[where] = counts.get(where, 0) + 1
        return counts
