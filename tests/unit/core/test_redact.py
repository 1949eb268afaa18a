"""Scrubbing key material out of text, log records and tracebacks."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keyhygiene.core import redact
from keyhygiene.core.redact import PLACEHOLDER, RedactingFilter, remember, scrub

Secret = Callable[..., str]


def test_scrub_replaces_every_remembered_value(secret: Secret) -> None:
    a, b = secret("A"), secret("B")
    remember([a, b, None, ""])
    assert scrub(f"key={a} secret={b} again {a}") == f"key={PLACEHOLDER} secret={PLACEHOLDER} again {PLACEHOLDER}"
    assert scrub(ValueError(f"bad {a}")) == f"bad {PLACEHOLDER}"


def test_values_inside_longer_tokens_and_url_encoded_forms_are_scrubbed(secret: Secret) -> None:
    s = secret("S") + "+/="
    remember([s])
    assert s not in scrub(f"signature=XX{s}YY")
    encoded = urllib.parse.quote(s, safe="")
    assert encoded != s
    assert scrub(f"GET /api?apiKey={encoded}") == f"GET /api?apiKey={PLACEHOLDER}"


def test_the_longest_value_wins_so_nothing_of_it_is_left(secret: Secret) -> None:
    short = secret("X", 12)
    long = short + secret("Y", 20)
    remember([short, long])
    assert scrub(long) == PLACEHOLDER


def test_short_values_are_not_remembered() -> None:
    remember(["abc12"])
    assert scrub("abc12 is an ordinary word") == "abc12 is an ordinary word"


def test_pem_keys_are_scrubbed_line_by_line() -> None:
    from tests.helpers.keychain_contract import rsa_pem

    pem = rsa_pem()
    remember([pem])
    body = [line for line in pem.splitlines() if not line.startswith("-----")]
    text = f"parse error near {body[3]!r} in {body[7]}"
    out = scrub(text)
    assert body[3] not in out and body[7] not in out
    scrubbed = scrub(pem)
    assert all(line not in scrubbed for line in body)


def test_forget_all_clears(secret: Secret) -> None:
    s = secret()
    remember([s])
    redact.forget_all()
    assert scrub(s) == s


# ---- the logging filter ------------------------------------------------------------------------------------
@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[tuple[logging.Logger, Path]]:
    from tests.helpers.secrets_watch import watch_dir

    watch_dir(tmp_path)
    path = tmp_path / "test.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("keyhygiene.test_redact")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, path
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_messages_and_arguments_are_redacted(log_file: tuple[logging.Logger, Path], secret: Secret) -> None:
    logger, path = log_file
    s = secret()
    remember([s])
    logger.info("stored %s for %s", s, "binance")
    logger.warning(f"inline {s}")
    logger.info({"apiKey": s})
    text = path.read_text()
    assert s not in text
    assert text.count(PLACEHOLDER) == 3 and "binance" in text


def test_exception_tracebacks_are_redacted_including_causes(
    log_file: tuple[logging.Logger, Path], secret: Secret
) -> None:
    logger, path = log_file
    s = secret()
    remember([s])

    def parse(value: str) -> None:
        raise ValueError(f"unexpected token in {value}")

    try:
        try:
            parse(s)
        except ValueError as inner:
            raise RuntimeError(f"exchange rejected key {s}") from inner
    except RuntimeError:
        logger.exception("inspection failed")
    text = path.read_text()
    assert s not in text
    assert "Traceback" in text and "RuntimeError: exchange rejected key [redacted]" in text
    assert "ValueError: unexpected token in [redacted]" in text


def test_stack_info_and_preformatted_exc_text_are_redacted(
    log_file: tuple[logging.Logger, Path], secret: Secret
) -> None:
    logger, path = log_file
    s = secret()
    remember([s])
    logger.info("where %s", s, stack_info=True)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", None, None)
    record.exc_text = f"Traceback: {s}"
    assert RedactingFilter().filter(record)
    assert record.exc_text == f"Traceback: {PLACEHOLDER}"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", None, None, sinfo=f"Stack: {s}")
    RedactingFilter().filter(record)
    assert record.stack_info == f"Stack: {PLACEHOLDER}"
    assert s not in path.read_text()


def test_a_bad_format_string_does_not_break_logging(log_file: tuple[logging.Logger, Path], secret: Secret) -> None:
    logger, path = log_file
    s = secret()
    remember([s])
    logger.info(f"{s} %s %s", "only one")
    text = path.read_text()
    assert s not in text and PLACEHOLDER in text
