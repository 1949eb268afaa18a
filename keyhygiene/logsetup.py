"""Logging to the platformdirs log dir, every record passed through the redaction filter."""

from __future__ import annotations

import logging
import logging.handlers

from keyhygiene.core.redact import RedactingFilter
from keyhygiene.paths import AppPaths

_configured: set[str] = set()


def configure_logging(paths: AppPaths, level: int = logging.INFO) -> None:
    target = str(paths.log_file)
    if target in _configured:
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
    _configured.add(target)
