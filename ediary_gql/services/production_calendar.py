"""The Russian production calendar: which days are working days.

Public holidays and the government's day transfers come from the `holidays`
package (`holidays.Russia`); corrections (a late decree, a regional day off)
are kept as data in `calendar_overrides` and win over the package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import CalendarOverride

# Far enough for any due date counted from a given day (10 working days fit in ~4 weeks
# even across the New Year holidays).
_LOOKAHEAD = dt.timedelta(days=60)


@lru_cache(maxsize=32)
def _russia(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year)


@lru_cache(maxsize=32)
def _russia_in_russian(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year, language="ru")


def holiday_name(day: dt.date) -> str | None:
    """The public holiday (or the transferred day off) on `day`, named in Russian; None on other days."""
    name = _russia_in_russian(day.year).get(day)
    return str(name) if name is not None else None


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days with the stored overrides applied; pure, so it can be tested alone."""

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return bool(_russia(day.year).is_working_day(day))

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `start` (`start` itself is not counted)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        day = start
        while count:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + dt.timedelta(days=n)))


async def load_calendar(session: AsyncSession, start: dt.date, end: dt.date | None = None) -> WorkingCalendar:
    """The calendar with the overrides stored for [start, end] (default: two months ahead)."""
    end = end or start + _LOOKAHEAD
    rows = await session.execute(
        select(CalendarOverride.date, CalendarOverride.is_working).where(
            CalendarOverride.date >= start, CalendarOverride.date <= end
        )
    )
    return WorkingCalendar(overrides={day: bool(working) for day, working in rows.all()})
