"""The log file: in the (overridable) log dir, redacted, closed at the end of a run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keyhygiene.core import redact
from keyhygiene.core.redact import PLACEHOLDER, RedactingFilter
from keyhygiene.logsetup import close_logging, configure_logging, protect_last_resort
from keyhygiene.paths import app_paths

Secret = Callable[..., str]


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    yield
    close_logging()


def test_logs_go_to_the_log_file_redacted(data_dir: Path, secret: Secret) -> None:
    paths = app_paths(data_dir)
    configure_logging(paths)
    configure_logging(paths)  # a second call adds no second handler
    s = secret()
    redact.remember([s])
    log = logging.getLogger("ccxt.base.exchange")  # third-party records pass the same filter
    try:
        raise ConnectionError(f"POST https://api.example/v5?api_key={s} failed")
    except ConnectionError:
        log.exception("request failed for %s", s)
    close_logging()
    text = paths.log_file.read_text()
    assert paths.log_file.parent == data_dir / "logs"
    assert s not in text
    assert text.count(PLACEHOLDER) >= 2 and "ConnectionError" in text
    assert text.count("request failed") == 1


def test_close_logging_detaches_and_closes(data_dir: Path) -> None:
    paths = app_paths(data_dir)
    configure_logging(paths)
    root = logging.getLogger()
    mine = [h for h in root.handlers if getattr(h, "baseFilename", None) == str(paths.log_file)]
    assert len(mine) == 1
    close_logging()
    assert mine[0] not in root.handlers
    assert mine[0].stream is None  # type: ignore[attr-defined]
    logging.getLogger("x").warning("after close")
    assert "after close" not in paths.log_file.read_text()


def test_an_unwritable_log_dir_raises_oserror(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    paths = app_paths(tmp_path / "blocker" / "vault")
    with pytest.raises(OSError):
        configure_logging(paths)


def test_last_resort_stderr_output_is_redacted_too(capsys: pytest.CaptureFixture[str], secret: Secret) -> None:
    protect_last_resort()
    protect_last_resort()
    assert logging.lastResort is not None
    assert sum(isinstance(f, RedactingFilter) for f in logging.lastResort.filters) == 1
    s = secret()
    redact.remember([s])
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "leaked %s", (s,), None)
    logging.lastResort.handle(record)
    err = capsys.readouterr().err
    assert s not in err and PLACEHOLDER in err


def test_records_logged_before_the_file_opens_reach_it_redacted(data_dir: Path, secret: Secret) -> None:
    from keyhygiene.logsetup import hold_early_records

    paths = app_paths(data_dir)
    hold_early_records()
    hold_early_records()  # idempotent: one buffer
    s = secret()
    redact.remember([s])
    logging.getLogger("keyhygiene.store").info("migrated the vault, key %s", s)
    logging.getLogger("keyhygiene.x").debug("below INFO: not kept")
    assert not paths.log_file.exists()
    configure_logging(paths)
    logging.getLogger("keyhygiene.x").info("after the file opened")
    close_logging()
    text = paths.log_file.read_text()
    assert text.count("migrated the vault") == 1 and s not in text and PLACEHOLDER in text
    assert "below INFO" not in text
    assert text.index("migrated the vault") < text.index("after the file opened")


def test_early_records_are_dropped_by_close_logging_without_a_file(data_dir: Path) -> None:
    from keyhygiene import logsetup

    logsetup.hold_early_records()
    close_logging()
    assert logsetup._early is None
    assert not any(isinstance(h, logsetup._EarlyRecords) for h in logging.getLogger().handlers)
