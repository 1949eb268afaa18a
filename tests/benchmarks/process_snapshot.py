"""Diagnosis for the ``memory`` line: what a benchmark child's process holds, written as JSON (issue 21).

``app_audit.py`` calls ``write(path, moment)`` when the audit starts (the window's peak is reached within ~0.1 s of
that) and when it finishes, if ``KEYHYGIENE_BENCH_MODULES=<path>`` is set; ``<path>.<moment>.json`` then holds:

- ``status``: VmRSS, VmHWM, thread count, SQLite's own heap (used and peak, KiB);
- ``smaps``: resident KiB per mapping name (``[anon]``, ``[heap]``, each shared library and font);
- ``anon_by_size``: anonymous mappings by size (size KiB, count, resident KiB): stacks, arenas;
- ``modules`` (in import order), ``threads`` (Python thread names), ``pymalloc`` (allocated Python blocks);
- ``qt_enums``: the PySide6 enum classes built so far, by owning class (classes, members): PySide builds a Qt
  class's enums as Python ``enum`` classes the first time the class is used; ``qt_types``: PySide6 classes built,
  by module;
- with ``PYTHONTRACEMALLOC=1``: ``traced_kb``, ``by_file``, ``by_line`` (Python allocations, KiB);

and ``<path>.<moment>.malloc.xml`` glibc's ``malloc_info`` (per-arena free and mapped bytes).

Writing it allocates (the object list alone is ~1.5 MB): the run's own ``memory`` figure is then ~2 MB high. Read
figures from a run without it.
"""

from __future__ import annotations

import ctypes
import enum
import gc
import json
import linecache
import sys
import threading
import tracemalloc
from typing import Any


def _status() -> dict[str, str]:
    status = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                status[key] = value.strip()
    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
        used, peak = sqlite.sqlite3_memory_used() // 1024, sqlite.sqlite3_memory_highwater(0) // 1024
        status["sqlite_kb"] = f"{used} (peak {peak})"
    except OSError:
        pass
    return status


def _smaps_kb() -> tuple[dict[str, int], list[tuple[int, int, int]]]:
    """Resident KiB per mapping name, and anonymous mappings by size: (size KiB, how many, resident KiB) -
    8 MiB ones are thread stacks, 64 MiB ones (or their pieces) glibc's per-thread malloc arenas, 1 MiB ones
    pymalloc's arenas."""
    rss: dict[str, int] = {}
    anon: dict[int, list[int]] = {}
    name, size = "", 0
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):  # a mapping's header line
                start, end = (int(x, 16) for x in fields[0].split("-"))
                name, size = (fields[5] if len(fields) > 5 else "[anon]"), (end - start) // 1024
            elif line.startswith("Rss:"):
                rss[name] = rss.get(name, 0) + int(fields[1])
                if name == "[anon]" and int(fields[1]):
                    bucket = anon.setdefault(size, [0, 0])
                    bucket[0] += 1
                    bucket[1] += int(fields[1])
    return rss, sorted(((k, n, r) for k, (n, r) in anon.items()), key=lambda b: -b[2])


def _qt_enums() -> tuple[list[tuple[str, list[int]]], dict[str, list[str]]]:
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # the app freezes what it built at start-up (ui/gc_guard.py); get_objects() skips frozen objects
    objects = gc.get_objects()
    if frozen:
        gc.freeze()
    owners: dict[str, list[int]] = {}
    types: dict[str, list[str]] = {}
    for obj in objects:
        if not isinstance(obj, type) or not str(getattr(obj, "__module__", "")).startswith("PySide6"):
            continue
        if isinstance(obj, enum.EnumType):
            counts = owners.setdefault(obj.__qualname__.rsplit(".", 1)[0], [0, 0])
            counts[0] += 1
            counts[1] += len(obj.__members__)
        else:
            types.setdefault(obj.__module__, []).append(obj.__qualname__)
    return sorted(owners.items(), key=lambda kv: -kv[1][1]), {m: sorted(names) for m, names in types.items()}


def _malloc_info(path: str) -> None:
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    fp = libc.fopen(path.encode(), b"w")
    if fp:
        libc.malloc_info(0, ctypes.c_void_p(fp))
        libc.fclose(ctypes.c_void_p(fp))


def write(path: str, moment: str) -> None:
    smaps, anon = _smaps_kb()
    qt_enums, qt_types = _qt_enums()
    snapshot: dict[str, Any] = {
        "moment": moment, "status": _status(), "smaps": smaps, "anon_by_size": anon,
        "pymalloc": sys.getallocatedblocks(),
        "modules": list(sys.modules), "threads": sorted(t.name for t in threading.enumerate()),
        "qt_enums": qt_enums, "qt_types": qt_types,
        "linecache": sorted(((name, sum(map(len, entry[2]))) for name, entry in list(linecache.cache.items())
                             if len(entry) == 4), key=lambda e: -e[1]),
    }
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot()
        by_file = snap.statistics("filename")
        snapshot["traced_kb"] = sum(s.size for s in by_file) // 1024
        snapshot["by_file"] = [(str(s.traceback[0].filename), s.size // 1024) for s in by_file[:80]]
        snapshot["by_line"] = [(str(s.traceback[0]), s.size // 1024) for s in snap.statistics("lineno")[:80]]
    _malloc_info(f"{path}.{moment}.malloc.xml")
    with open(f"{path}.{moment}.json", "w", encoding="utf-8") as f:
        json.dump(snapshot, f, indent=0)
