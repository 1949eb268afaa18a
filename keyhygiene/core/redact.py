"""Scrub key material out of text before it reaches a log, an error message or the screen.

Every secret the process handles is registered here (``remember``) the moment it is read from the user, the
environment or the keychain. ``scrub`` replaces each registered value, and anything that merely contains one
(URL-encoded, inside a longer token), with a placeholder. The log filter applies it to every record.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Iterable

_MIN_LEN = 6  # shorter values would scrub ordinary words; no exchange secret is this short
_lock = threading.Lock()
_secrets: set[str] = set()
PLACEHOLDER = "[redacted]"


def remember(values: Iterable[str | None]) -> None:
    with _lock:
        for v in values:
            if v and len(v) >= _MIN_LEN:
                _secrets.add(v)
                quoted = urllib.parse.quote(v, safe="")
                if quoted != v:
                    _secrets.add(quoted)
                # PEM keys show up line by line in tracebacks.
                for line in v.splitlines():
                    line = line.strip()
                    if len(line) >= 16 and not line.startswith("-----"):
                        _secrets.add(line)


def forget_all() -> None:
    with _lock:
        _secrets.clear()


def scrub(text: object) -> str:
    s = str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for v in secrets:
        if v in s:
            s = s.replace(v, PLACEHOLDER)
    return s


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with ``scrub`` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            msg = str(record.msg)
        record.msg = scrub(msg)
        record.args = None
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(formatted)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
