"""Process hardening, applied before any secret is read (issue 18, items 7 and 8).

- No core dumps: a crash of a process that held an API secret in memory must not write it to disk (systemd-coredump,
  apport, a ``core`` file in the working folder). RLIMIT_CORE 0 everywhere it exists; on Linux also
  ``PR_SET_DUMPABLE 0``, which additionally keeps other processes of the same user from ptrace-reading our memory.
  macOS honours RLIMIT_CORE; Windows has no per-process core limit (Windows Error Reporting dumps are governed by
  system policy), so nothing is done there.
- A private umask (0o077): every file the app creates (database and its WAL, logs, settings, reports, backups) is
  0600 and every folder 0700, whoever creates it (SQLite, logging, Qt), without each writer having to remember.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_applied = False


def disable_core_dumps() -> None:
    try:
        import resource
    except ImportError:  # Windows
        return
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):  # pragma: no cover - lowering a limit is always allowed
        log.warning("could not disable core dumps (RLIMIT_CORE)")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError):  # pragma: no cover - musl/static builds without prctl
            log.warning("could not disable core dumps (prctl)")


def is_dumpable() -> bool | None:
    """Linux only: the process's dumpable flag (None elsewhere). For the tests and ``doctor``."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return bool(ctypes.CDLL(None).prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))


def harden_process() -> None:
    """Idempotent; call first thing in every entry point."""
    global _applied
    if _applied:
        return
    _applied = True
    disable_core_dumps()
    os.umask(PRIVATE_UMASK)
