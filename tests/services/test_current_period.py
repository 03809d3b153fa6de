"""A school's current period (services/current_period.py): by the school's own today."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.services.current_period import children_current_periods, current_periods, pick_current
from tests.factories import make_academic_year, make_enrolled_child, make_period, make_school, make_school_class

D = dt.date


def _period(pid: int, starts: dt.date, ends: dt.date) -> Period:
    return Period(id=pid, academic_year_id=1, number=pid, name=f"{pid}", starts_on=starts, ends_on=ends)


def test_the_period_holding_today_else_the_latest_ended_else_none() -> None:
    first, second = _period(1, D(2026, 9, 1), D(2026, 10, 25)), _period(2, D(2026, 11, 5), D(2026, 12, 28))
    assert pick_current([first, second], D(2026, 9, 1)) is first  # its first day
    assert pick_current([first, second], D(2026, 10, 25)) is first  # its last day
    assert pick_current([first, second], D(2026, 10, 30)) is first  # the autumn holidays
    assert pick_current([first, second], D(2026, 11, 5)) is second
    assert pick_current([first, second], D(2027, 7, 1)) is second  # the summer
    assert pick_current([first, second], D(2026, 8, 31)) is None  # before the first


async def test_each_school_judges_by_its_own_today(session: AsyncSession, app_services: object) -> None:
    # given a Moscow and a Vladivostok school whose first quarter begins on 2 September
    schools = {}
    for zone in ("Europe/Moscow", "Asia/Vladivostok"):
        school = await make_school(session, timezone=zone)
        year = await make_academic_year(session, school=school, starts_on=D(2026, 9, 1), ends_on=D(2027, 5, 31))
        period = await make_period(session, academic_year_id=year.id, starts_on=D(2026, 9, 2), ends_on=D(2026, 10, 25))
        klass = await make_school_class(session, academic_year_id=year.id)
        child = await make_enrolled_child(session, class_id=klass.id)
        schools[zone] = (school.id, period.id, child.id)
    await session.commit()
    # at 15:00 UTC on 1 September: 18:00 of the 1st in Moscow, 01:00 of the 2nd in Vladivostok
    now = dt.datetime(2026, 9, 1, 15, 0, tzinfo=dt.UTC)
    moscow, vladivostok = schools["Europe/Moscow"], schools["Asia/Vladivostok"]

    # when each school's current period is asked, and each child's
    by_school = await current_periods(session, school_ids=[moscow[0], vladivostok[0]], now=now)
    by_child = await children_current_periods(session, child_ids=[moscow[2], vladivostok[2]], now=now)

    # then Vladivostok is in its first quarter, Moscow not yet
    of_school = {key: p.id for key, p in by_school.items() if p is not None}
    of_child = {key: p.id for key, p in by_child.items() if p is not None}
    assert of_school == {vladivostok[0]: vladivostok[1]}
    assert of_child == {vladivostok[2]: vladivostok[1]}
