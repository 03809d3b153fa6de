"""Working days by the Russian production calendar, with overrides kept as data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.services.production_calendar import WorkingCalendar, load_calendar
from tests.factories import make_calendar_override

D = dt.date


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # submitted on 2026-12-30: Dec 31 is a transferred day off, then the New Year holidays
        (D(2026, 12, 30), 5, D(2027, 1, 15)),
        (D(2026, 12, 30), 1, D(2027, 1, 11)),
        (D(2026, 12, 30), 10, D(2027, 1, 22)),
        # an ordinary week: Friday + 5 working days = next Friday
        (D(2026, 11, 20), 5, D(2026, 11, 27)),
        # Unity Day (Wed 2026-11-04) is skipped
        (D(2026, 11, 2), 5, D(2026, 11, 10)),
        # 2027-02-20 is a working Saturday (transferred from it), Feb 22-23 are days off
        (D(2027, 2, 19), 1, D(2027, 2, 20)),
        (D(2027, 2, 20), 1, D(2027, 2, 24)),
        # May holidays 2026: May 1 (Fri), May 9 (Sat), May 11 (Mon, observed)
        (D(2026, 4, 30), 1, D(2026, 5, 4)),
        (D(2026, 5, 8), 1, D(2026, 5, 12)),
    ],
)
def test_add_working_days(start: dt.date, count: int, expected: dt.date) -> None:
    assert WorkingCalendar().add_working_days(start, count) == expected


def test_overrides_win_over_the_package() -> None:
    calendar = WorkingCalendar(overrides={D(2026, 11, 25): False, D(2026, 11, 28): True})
    assert not calendar.is_working_day(D(2026, 11, 25))  # a Wednesday declared a day off
    assert calendar.is_working_day(D(2026, 11, 28))  # a Saturday declared working
    assert calendar.add_working_days(D(2026, 11, 24), 2) == D(2026, 11, 27)


def test_working_days_between() -> None:
    assert WorkingCalendar().working_days_between(D(2026, 12, 30), D(2027, 1, 15)) == 5


async def test_overrides_are_read_from_the_database(session: AsyncSession) -> None:
    await make_calendar_override(session, year=2026, date=D(2026, 12, 1), is_working=False, note="региональный")
    await session.commit()
    calendar = await load_calendar(session, D(2026, 11, 30))
    assert not calendar.is_working_day(D(2026, 12, 1))
    assert calendar.add_working_days(D(2026, 11, 30), 1) == D(2026, 12, 2)
