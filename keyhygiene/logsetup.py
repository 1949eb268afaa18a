"""Logging to the platformdirs log dir, every record passed through the redaction filter."""

from __future__ import annotations

import logging
import logging.handlers

from keyhygiene.core.redact import RedactingFilter
from keyhygiene.paths import AppPaths

_handlers: dict[str, logging.Handler] = {}


def configure_logging(paths: AppPaths, level: int = logging.INFO) -> None:
    """Send every record to ``paths.log_file``, redacted. Raises OSError when the log folder is not writable."""
    protect_last_resort()
    target = str(paths.log_file)
    if target in _handlers:
        return
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(target, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Filter on the handler, not only the logger: records from ccxt, aiohttp, keyring propagate here too.
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _handlers[target] = handler


def protect_last_resort() -> None:
    """Before a log file is configured, warnings go to stderr through ``logging.lastResort``: redact those too."""
    last = logging.lastResort
    if last is not None and not any(isinstance(f, RedactingFilter) for f in last.filters):
        last.addFilter(RedactingFilter())


def close_logging() -> None:
    """Detach and close the log files this module opened (end of a CLI run; tests that run main() repeatedly)."""
    root = logging.getLogger()
    for handler in _handlers.values():
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
