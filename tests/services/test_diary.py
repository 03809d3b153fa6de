"""The diary service without GraphQL: range bounds, averages, who may read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import GradeKind, StaffRole, UserStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import diary
from ediary_gql.services.averages import averages
from tests.diary_support import MONDAY, build_school
from tests.factories import make_grade


def _actor(user_id: int, **facts: object) -> Actor:
    return Actor(user_id=user_id, session_id=1, status=UserStatus.CONFIRMED, **facts)  # type: ignore[arg-type]


def test_range_is_at_most_31_days_and_forwards() -> None:
    diary.check_range(MONDAY, MONDAY + dt.timedelta(days=30))
    for end in (MONDAY + dt.timedelta(days=31), MONDAY - dt.timedelta(days=1)):
        with pytest.raises(DomainError) as caught:
            diary.check_range(MONDAY, end)
        assert caught.value.errors[0].field == ("to",)
        assert caught.value.code is ErrorCode.INVALID


async def test_averages_leave_out_deleted_final_and_pass_fail_grades(
    session: AsyncSession, app_services: object
) -> None:
    # given a child with a 5 and a weight-2 4 on Monday, plus grades that must not count
    world = await build_school(session, children=1, weeks=0)
    child = world.children[0]
    common = {"child": child, "class_id": world.school_class.id, "subject": world.subject, "graded_on": MONDAY}
    await make_grade(session, value="5", **common)
    await make_grade(session, value="4", weight=Decimal("2.00"), **common)
    await make_grade(session, value="2", deleted_at=dt.datetime.now(dt.UTC), **common)
    await make_grade(session, value="PASS", **common)
    await make_grade(session, value="3", kind=GradeKind.PERIOD_FINAL, period=world.period, **common)
    await make_grade(session, value="2", **{**common, "graded_on": world.period.ends_on + dt.timedelta(days=1)})
    await session.commit()

    found = await averages(
        session, child_ids=[child.id, 10**9], starts_on=world.period.starts_on, ends_on=world.period.ends_on
    )

    assert found[10**9] == []
    (maths,) = found[child.id]
    assert (maths.subject_name, maths.count) == ("Математика", 2)
    assert maths.average == Decimal("4.50")
    assert maths.weighted_average == Decimal("4.33")


async def test_readable_children_follow_the_policy(session: AsyncSession, app_services: object) -> None:
    world = await build_school(session, children=2, weeks=0)
    first, second = (c.id for c in world.children)
    school = world.school.id

    parent = _actor(world.parent.id, guardian_of=frozenset({first}))
    teacher = _actor(world.teacher.id, memberships=frozenset({(school, StaffRole.TEACHER)}))
    admin = _actor(10**9, memberships=frozenset({(school, StaffRole.SCHOOL_ADMIN)}))
    stranger_teacher = _actor(10**9 + 1, memberships=frozenset({(school, StaffRole.TEACHER)}))
    operator = _actor(10**9 + 2, is_operator=True)

    assert await diary.readable_children(session, actor=parent, child_ids=[first, second]) == {first}
    assert await diary.readable_children(session, actor=teacher, child_ids=[first, second]) == {first, second}
    assert await diary.readable_children(session, actor=admin, child_ids=[first, second]) == {first, second}
    assert await diary.readable_children(session, actor=stranger_teacher, child_ids=[first]) == frozenset()
    assert await diary.readable_children(session, actor=operator, child_ids=[first]) == frozenset()
