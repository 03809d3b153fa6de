"""Academic years, periods, holidays and production-calendar overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear, CalendarOverride, Holiday, Period
from ediary_gql.db.models.enums import PeriodKind
from tests.factories._base import SCHOOL_YEAR_START, persist, take_parents
from tests.factories.schools import make_school

# Quarters as (month, day) pairs counted from the September the year starts in;
# a month below 9 falls in the next calendar year.
_QUARTERS = {
    1: ((9, 1), (10, 25)),
    2: ((11, 5), (12, 28)),
    3: ((1, 12), (3, 21)),
    4: ((3, 30), (5, 26)),
}


def _in_year(start_year: int, month_day: tuple[int, int]) -> dt.date:
    month, day = month_day
    return dt.date(start_year if month >= 9 else start_year + 1, month, day)


async def make_academic_year(session: AsyncSession, **overrides: Any) -> AcademicYear:
    """The school's first year not taken yet, from 2026/2027 on, in quarters."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    taken = set(
        (await session.scalars(select(AcademicYear.name).where(AcademicYear.school_id == o["school_id"]))).all()
    )
    year = next(y for y in range(SCHOOL_YEAR_START.year, 2100) if f"{y}/{y + 1}" not in taken)
    fields: dict[str, Any] = {
        "name": f"{year}/{year + 1}",
        "starts_on": dt.date(year, 9, 1),
        "ends_on": dt.date(year + 1, 5, 31),
        "period_kind": PeriodKind.QUARTER,
    }
    fields.update(o)
    return await persist(session, AcademicYear(**fields))


async def make_period(session: AsyncSession, **overrides: Any) -> Period:
    """The year's first quarter not made yet (the 1st, then the 2nd, …)."""
    o = take_parents(overrides)
    if "academic_year_id" not in o:
        o["academic_year_id"] = (await make_academic_year(session)).id
    year = await session.get(AcademicYear, o["academic_year_id"])
    assert year is not None
    taken = set((await session.scalars(select(Period.number).where(Period.academic_year_id == year.id))).all())
    number = o.get("number") or next(k for k in range(1, 5) if k not in taken)
    starts, ends = _QUARTERS[number]
    fields: dict[str, Any] = {
        "number": number,
        "name": f"{number} четверть",
        "starts_on": _in_year(year.starts_on.year, starts),
        "ends_on": _in_year(year.starts_on.year, ends),
    }
    fields.update(o)
    return await persist(session, Period(**fields))


async def make_holiday(session: AsyncSession, **overrides: Any) -> Holiday:
    """The autumn holidays of 2026 unless told otherwise."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    fields: dict[str, Any] = {
        "name": "Осенние каникулы",
        "starts_on": dt.date(2026, 10, 26),
        "ends_on": dt.date(2026, 11, 4),
    }
    fields.update(o)
    return await persist(session, Holiday(**fields))


async def make_calendar_override(session: AsyncSession, **overrides: Any) -> CalendarOverride:
    """By default a made-up working Saturday in 2099, the first one not taken."""
    o = take_parents(overrides)
    if "date" not in o:
        taken = set((await session.scalars(select(CalendarOverride.date))).all())
        day = dt.date(2099, 1, 3)  # a Saturday
        while day in taken:
            day += dt.timedelta(days=7)
        o["date"] = day
    fields: dict[str, Any] = {
        "year": o["date"].year,
        "is_working": True,
        "note": "Перенос выходного дня",
    }
    fields.update(o)
    return await persist(session, CalendarOverride(**fields))
