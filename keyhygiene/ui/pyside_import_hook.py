"""Keep PySide6's import hook from reading the source of every module imported after it.

Once PySide6 is imported, every ``import`` statement goes through its ``__feature__`` hook, which, the first time
it sees a module, reads that module's whole source (``inspect.getsource``, so into ``linecache``) to find out
whether it mentions PySide6. For ccxt (700 files, 74 MB of source) and its HTTP stack that turned a 0.6 s import
into 0.8 s and ~90 MB more memory, all of it holding the GIL while the GUI thread waits; the app's own modules and
the standard library's paid 1-10 ms apiece at start-up. ``use_fast_check`` answers the hook's question from the
module's namespace instead, and drops the sources the hook had already read (see ``_forget_file_sources``).
"""

from __future__ import annotations

import sys
from types import ModuleType


def _uses_pyside(module: ModuleType) -> bool:
    """Whether the module took anything from PySide6/shiboken6, judged from its namespace (the hook's own test
    reads the module's source file for that)."""
    for value in list(vars(module).values()):
        owner = getattr(value, "__module__", None) if not isinstance(value, ModuleType) else value.__name__
        if isinstance(owner, str) and owner.startswith(("PySide6", "shiboken6")):
            return True
    return False


def use_fast_check() -> bool:
    """Make the hook tell PySide modules from others by their namespace. A module that imports nothing from
    PySide6 cannot use its ``__feature__`` switches, so the answer is the same. Idempotent; False if this PySide
    has no such hook (a later release may differ: then nothing changes)."""
    mod = sys.modules.get("shibokensupport.feature") or sys.modules.get("PySide6.support.feature")
    if mod is None or not callable(getattr(mod, "_mod_uses_pyside", None)):
        return False
    if mod._mod_uses_pyside is not _uses_pyside:
        mod._mod_uses_pyside = _uses_pyside  # type: ignore[attr-defined]
        _forget_file_sources()
    return True


def _forget_file_sources() -> None:
    """Every module imported between PySide6 and the swap had its whole source read into ``linecache`` and kept
    there for the life of the process: 3 MB in the window that the benchmark starts (it imports PySide6 first;
    tests/benchmarks: memory). Entries of files on disk go: ``linecache`` reads a file again when a traceback
    needs it. Entries without a modification time (source generated at run time, by attrs for one) cannot be
    read again, so they stay. Called once, when the swap happens (app start-up, before the worker threads)."""
    import linecache

    for name, entry in list(linecache.cache.items()):
        if len(entry) == 4 and entry[1] is not None:  # (size, mtime, lines, path)
            linecache.cache.pop(name, None)
