"""The schedule without GraphQL: production-calendar overrides, conflicts, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import SYSTEM_ACTOR
from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import lessons as service
from tests.diary_writes_support import MONDAY, make_world
from tests.factories import make_calendar_override, make_timetable_slot, make_timetable_template


async def test_generation_follows_calendar_overrides_and_keeps_saturdays(
    session: AsyncSession, app_services: AppServices
) -> None:
    # given a template with Monday and Saturday lessons, and a decree making Monday 14 September a day off
    world = await make_world(session)
    template = await make_timetable_template(
        session, school_class=world.school_class, period_id=world.period.id, created_by_id=world.admin.id
    )
    for weekday in (1, 6):
        await make_timetable_slot(
            session,
            template_id=template.id,
            weekday=weekday,
            lesson_number=1,
            start_time=dt.time(8, 30),
            end_time=dt.time(9, 15),
            subject_id=world.subject.id,
            teacher_id=world.teacher.id,
            room=None,
        )
    override = await make_calendar_override(
        session, date=dt.date(2026, 9, 14), year=2026, is_working=False, note="Перенос"
    )
    await session.commit()

    # when lessons are generated for two weeks
    try:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            result = await service.generate_lessons(
                tx, actor=SYSTEM_ACTOR, template_id=template.id, start=MONDAY, end=MONDAY + dt.timedelta(days=13)
            )
    finally:  # calendar overrides are reference data the per-test cleanup keeps
        await session.delete(override)
        await session.commit()

    # then the overridden Monday is skipped, Saturdays (a six-day school) are kept
    assert sorted(lesson.date for lesson in result.created) == [
        dt.date(2026, 9, 7),
        dt.date(2026, 9, 12),
        dt.date(2026, 9, 19),
    ]
    # and the run is in the audit trail
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "generateLessons"))
    assert entry is not None
    assert entry.after is not None
    assert entry.after["created"] == 3


async def test_a_cancelled_lesson_keeps_its_slot_but_books_nothing(
    session: AsyncSession, app_services: AppServices
) -> None:
    world = await make_world(session)
    cancelled = await world.lesson(session, start_time=dt.time(9, 0), end_time=dt.time(9, 45), status="CANCELLED")
    await session.commit()
    data = service.LessonData(
        class_id=world.school_class.id,
        subject_id=world.subject.id,
        teacher_id=world.teacher.id,
        date=MONDAY,
        start_time=dt.time(9, 0),
        end_time=dt.time(9, 45),
    )
    # the exact slot is still held by the cancelled lesson (restore it instead)
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            await service.create_lesson(tx, actor=SYSTEM_ACTOR, data=data)
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.CONFLICT, ("startTime",))]
    assert "id " in refused.value.errors[0].message
    # an overlapping lesson at another start is fine: the cancelled one books nothing
    later = service.LessonData(
        class_id=data.class_id,
        subject_id=data.subject_id,
        teacher_id=data.teacher_id,
        date=MONDAY,
        start_time=dt.time(9, 10),
        end_time=dt.time(9, 55),
    )
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        made = await service.create_lesson(tx, actor=SYSTEM_ACTOR, data=later)
    assert made.id != cancelled.id
    assert len((await session.scalars(select(Lesson))).all()) == 2
