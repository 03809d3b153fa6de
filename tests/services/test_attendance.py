"""Attendance without GraphQL: the day's summary, events only for real changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, StaffRole, UserStatus
from ediary_gql.events.publish import unit_of_work
from ediary_gql.events.types import AttendanceChanged
from ediary_gql.services import attendance as service
from tests.diary_writes_support import MONDAY, make_world
from tests.factories import make_attendance, make_child, make_enrollment


async def test_summary_counts_scheduled_lessons_and_enrolled_children(
    session: AsyncSession, app_services: AppServices
) -> None:
    # given two lessons that day and one cancelled, two children enrolled and one who left before
    world = await make_world(session)
    first = await world.lesson(session, start_time=dt.time(8, 30), end_time=dt.time(9, 15))
    second = await world.lesson(session, start_time=dt.time(9, 25), end_time=dt.time(10, 10), room="102")
    cancelled = await world.lesson(
        session, start_time=dt.time(10, 20), end_time=dt.time(11, 5), room="103", status=LessonStatus.CANCELLED
    )
    gone = await make_child(session)
    await make_enrollment(
        session, child_id=gone.id, class_id=world.school_class.id, ends_on=MONDAY - dt.timedelta(days=1)
    )
    for lesson, child, status in (
        (first, world.child, AttendanceStatus.LATE),
        (first, world.other_child, AttendanceStatus.PRESENT),
        (cancelled, world.child, AttendanceStatus.ABSENT),
        (second, gone, AttendanceStatus.ABSENT),
    ):
        await make_attendance(
            session,
            lesson_id=lesson.id,
            child_id=child.id,
            status=status,
            minutes_late=5 if status == AttendanceStatus.LATE else None,
            marked_by_id=world.teacher.id,
        )
    await session.commit()

    found = await service.summary(session, class_id=world.school_class.id, date=MONDAY)

    assert (found.lessons, found.children) == (2, 2)
    assert found.counts == {"PRESENT": 1, "ABSENT": 0, "LATE": 1, "EXCUSED": 0, "SICK": 0, "unmarked": 2}


async def test_events_are_queued_only_when_something_changed(session: AsyncSession, app_services: AppServices) -> None:
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    marks = [service.Mark(child_id=world.child.id, status=AttendanceStatus.PRESENT)]
    teacher = Actor(
        user_id=world.teacher.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(world.school.id, StaffRole.TEACHER)}),
    )

    async def run() -> list[object]:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            await service.mark_attendance(tx, actor=teacher, lesson_id=lesson.id, marks=marks)
            return list(tx.info.get("ediary.pending_events", []))

    events = await run()
    changed = [e for e in events if isinstance(e, AttendanceChanged)]
    assert sorted(e.channel for e in changed) == sorted(
        [f"class.{world.school_class.id}.attendance", f"school.{world.school.id}.attendance"]
    )
    assert [e for e in await run() if isinstance(e, AttendanceChanged)] == []
