"""A process's own peak RSS, for the benchmark children (bare_window.py via first_frame.py, app_audit.py).

Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps that figure across ``execve``, and a child that
``subprocess`` starts (vfork/fork, then exec) begins with its parent's high-water mark. The benchmark runner grows
past 240 MB during a full run (ccxt, the simulator, the report), so every child measured after that reported the
runner's size, not its own: the ``memory`` line read 242 MB for a window of 103 MB. ``VmHWM`` in
``/proc/self/status`` belongs to the process's current address space, which ``execve`` replaced.
"""

from __future__ import annotations

import resource
import sys


def peak_rss_kb() -> int:
    """Peak resident set size of this process since its exec, in KiB (ru_maxrss where /proc is missing)."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere
