"""The diary policy's row facts judge "today" by each school's own clock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.services.diary_facts import current_classes_of_children
from ediary_gql.services.school_time import today_in
from tests.factories import make_academic_year, make_child, make_enrollment, make_school, make_school_class


async def test_a_childs_current_class_is_the_one_open_today_at_its_school(
    app_services: object, session: AsyncSession
) -> None:
    # given a school twelve hours ahead of UTC, and a child enrolled there from its today
    # (for half of every day, a date UTC has not reached yet)
    school = await make_school(session, timezone="Asia/Kamchatka")
    local = today_in("Asia/Kamchatka")
    year = await make_academic_year(
        session, school_id=school.id, starts_on=local - dt.timedelta(days=60), ends_on=local + dt.timedelta(days=200)
    )
    starting = await make_school_class(session, school_id=school.id, academic_year_id=year.id, level=5, letter="А")
    ended = await make_school_class(session, school_id=school.id, academic_year_id=year.id, level=5, letter="Б")
    child = await make_child(session)
    await make_enrollment(
        session,
        child_id=child.id,
        class_id=ended.id,
        starts_on=local - dt.timedelta(days=30),
        ends_on=local - dt.timedelta(days=1),
    )
    await make_enrollment(session, child_id=child.id, class_id=starting.id, starts_on=local)
    await session.commit()
    # when the child's current classes are read
    found = await current_classes_of_children(session, [child.id])
    # then it is the class that starts today there, and not the one that ended yesterday there
    assert found == [(child.id, (starting.id, school.id))]
