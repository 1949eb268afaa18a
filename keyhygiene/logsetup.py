"""Logging to the platformdirs log dir, every record passed through the redaction filter."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from keyhygiene.core.redact import RedactingFilter

if TYPE_CHECKING:
    from keyhygiene.paths import AppPaths

_handlers: dict[str, logging.Handler] = {}
EARLY_LIMIT = 1000


class _EarlyRecords(logging.Handler):
    """Keeps the records logged before the log file is opened (the app opens it after its first frame, since
    ``logging.handlers`` and the file cost ~8 ms), and hands them to the file when it is."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < EARLY_LIMIT:
            self.records.append(record)


_early: _EarlyRecords | None = None


def hold_early_records() -> None:
    """Until ``configure_logging``, keep INFO and above in memory instead of losing them."""
    global _early
    if _early is None:
        _early = _EarlyRecords()
        root = logging.getLogger()
        root.addHandler(_early)
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)


def configure_logging(paths: AppPaths, level: int = logging.INFO) -> None:
    """Send every record to ``paths.log_file``, redacted. Raises OSError when the log folder is not writable."""
    protect_last_resort()
    target = str(paths.log_file)
    if target in _handlers:
        return
    import logging.handlers

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
    _replay_early(handler)


def _replay_early(handler: logging.Handler) -> None:
    global _early
    early, _early = _early, None
    if early is None:
        return
    logging.getLogger().removeHandler(early)
    for record in early.records:
        if record.levelno >= handler.level:
            handler.handle(record)


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
    global _early
    if _early is not None:
        root.removeHandler(_early)
        _early = None
