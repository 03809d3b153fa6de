"""Whose admins see a child's access log follows the child's enrolments by each school's
own date, as every other "where the child is now" rule does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.services.personal_data.sensitive_reads import child_school_ids
from ediary_gql.services.school_time import today_in
from tests.factories import make_academic_year, make_child, make_enrollment, make_school, make_school_class


def _zone_off_utc_date() -> str:
    """A zone whose date differs from UTC's right now: 14 hours ahead from 10:00 UTC,
    12 behind before noon."""
    return "Etc/GMT-14" if dt.datetime.now(dt.UTC).hour >= 10 else "Etc/GMT+12"


async def test_a_school_the_child_left_by_its_own_date_is_not_among_the_childs_schools(
    app_services: object, session: AsyncSession
) -> None:
    # given a school whose date is not UTC's, and a child whose enrolment there ended
    # yesterday by the school's clock, and one at another school ending today there
    zone = _zone_off_utc_date()
    local = today_in(zone)
    left = await make_school(session, timezone=zone)
    staying = await make_school(session, timezone=zone)
    child = await make_child(session)
    for school, ends_on in ((left, local - dt.timedelta(days=1)), (staying, local)):
        year = await make_academic_year(
            session, school_id=school.id, starts_on=local - dt.timedelta(days=90), ends_on=local + dt.timedelta(days=90)
        )
        school_class = await make_school_class(session, school_id=school.id, academic_year_id=year.id)
        await make_enrollment(
            session,
            child_id=child.id,
            class_id=school_class.id,
            starts_on=local - dt.timedelta(days=60),
            ends_on=ends_on,
        )
    child.school_id = staying.id  # the record moved with the child
    await session.commit()
    # when the child's schools are read for the access log
    found = await child_school_ids(session, child.id)
    # then the school still holding the child today is there, the one it left is not
    assert staying.id in found
    assert left.id not in found
