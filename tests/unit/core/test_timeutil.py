"""One timestamp format everywhere, strict user dates, exchange epochs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from keyhygiene.core.timeutil import from_epoch_ms, from_epoch_s, iso, parse_day, parse_iso, utcnow


def test_utcnow_is_aware_utc_without_microseconds() -> None:
    now = utcnow()
    assert now.tzinfo is UTC and now.microsecond == 0


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (None, None),
        (datetime(2023, 10, 30, 5, 53, 39, 999999, tzinfo=UTC), "2023-10-30T05:53:39Z"),
        (datetime(2023, 10, 30, 7, 53, 39, tzinfo=timezone(timedelta(hours=2))), "2023-10-30T05:53:39Z"),
        (datetime(2023, 10, 30, 5, 53, 39), "2023-10-30T05:53:39Z"),  # naive means UTC
    ],
)
def test_iso(dt: datetime | None, text: str | None) -> None:
    assert iso(dt) == text


@pytest.mark.parametrize(
    ("text", "dt"),
    [
        (None, None),
        ("", None),
        ("2023-10-30T05:53:39Z", datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        ("2023-10-30 05:53:39Z", datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        ("2023-10-30T07:53:39+02:00", datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        ("2023-10-30T05:53:39", datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        ("2023-10-30", datetime(2023, 10, 30, tzinfo=UTC)),
        (" 2023-10-30T05:53:39.250Z ", datetime(2023, 10, 30, 5, 53, 39, 250000, tzinfo=UTC)),
    ],
)
def test_parse_iso(text: str | None, dt: datetime | None) -> None:
    got = parse_iso(text)
    assert got == dt
    if got is not None:
        assert got.tzinfo == UTC


def test_iso_and_parse_iso_round_trip() -> None:
    dt = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert parse_iso(iso(dt)) == dt


def test_parse_day_accepts_only_yyyy_mm_dd() -> None:
    assert parse_day(" 2022-05-01 ") == date(2022, 5, 1)
    for bad in ["20220501", "2022-W17-7", "2022-5-1", "2022-13-01", "2022-02-30", "", "yesterday",
                "２０２２-０５-０１", "2022-05-01T00:00"]:
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_day(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1698645219000, datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        ("1698645219000", datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        (1698645219123.9, datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)),
        (0, None),
        (-5, None),
        (None, None),
        (True, None),
        ("soon", None),
        (10**30, None),
    ],
)
def test_from_epoch_ms(value: object, expected: datetime | None) -> None:
    assert from_epoch_ms(value) == expected


def test_from_epoch_s() -> None:
    assert from_epoch_s(1698645219) == datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)
    assert from_epoch_s("0") is None
