"""A school's own date, by its time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from ediary_gql.services.school_time import today_in

EVENING_UTC = dt.datetime(2026, 11, 28, 20, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("zone", "date"),
    [
        ("Europe/Moscow", dt.date(2026, 11, 28)),  # 23:30
        ("Asia/Vladivostok", dt.date(2026, 11, 29)),  # 06:30 next morning
        ("Europe/Kaliningrad", dt.date(2026, 11, 28)),
        (None, dt.date(2026, 11, 28)),  # Moscow when unset
        ("Mars/Olympus", dt.date(2026, 11, 28)),  # and when unknown
    ],
)
def test_today_is_the_schools_date(zone: str | None, date: dt.date) -> None:
    assert today_in(zone, now=EVENING_UTC) == date
