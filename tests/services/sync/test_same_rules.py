"""The sync services refuse what the teachers' mutations refuse, with the same words:
the rules are the services' own functions (or their set-based forms), not a copy. Each
case runs the single-item service and the sync on the same data and compares."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import DomainError
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import attendance, grades, lessons, sync
from ediary_gql.services.sessions import load_actors
from tests.sync_support import MONDAY, SyncWorld, make_sync_world

HOLIDAY = dt.date(2026, 11, 4)


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


async def _admin(app_services: AppServices, sw: SyncWorld) -> Actor:
    async with app_services.session_factory() as session:
        return (await load_actors(session, [sw.admin.id]))[sw.admin.id]


async def _refusal(app_services: AppServices, work: object) -> list[tuple[str, str]]:
    """The (code, message) of each refusal of `work(session)`, rolled back."""
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            await work(tx)  # type: ignore[operator]
    return [(e.code.value, e.message) for e in refused.value.errors]


async def _future_lesson(session: AsyncSession, sw: SyncWorld) -> Lesson:
    row = Lesson(
        school_id=sw.school.id,
        class_id=sw.school_class.id,
        subject_id=sw.subject.id,
        teacher_id=sw.teacher.id,
        date=dt.date(2027, 3, 1),
        start_time=dt.time(8, 30),
        end_time=dt.time(9, 15),
        external_id="L-FUTURE",
    )
    session.add(row)
    await session.commit()
    return row


@pytest.mark.parametrize(("lesson_sid", "value"), [("L-FUTURE", "5"), ("L-1", "7")])
async def test_a_grade_refused(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, lesson_sid: str, value: str
) -> None:
    # at a lesson not held yet; a value out of the scale
    await _future_lesson(session, sw)
    await sw.lessons(session, 1)
    lesson = await session.scalar(select(Lesson).where(Lesson.external_id == lesson_sid))
    assert lesson is not None
    admin = await _admin(app_services, sw)
    single = await _refusal(
        app_services,
        lambda tx: grades.enter_grade(
            tx, actor=admin, data=grades.GradeData(child_id=sw.child.id, lesson_id=lesson.id, value=value)
        ),
    )
    bulk = await _refusal(
        app_services,
        lambda tx: sync.sync_grades(
            tx, actor=admin, school_id=sw.school.id, items=[sync.GradeItem("G-1", "STU-1", lesson_sid, value)]
        ),
    )
    assert single == bulk
    assert len(bulk) == 1


async def test_a_mark_at_a_cancelled_lesson(session: AsyncSession, app_services: AppServices, sw: SyncWorld) -> None:
    (lesson,) = await sw.lessons(session, 1)
    lesson.status = LessonStatus.CANCELLED
    await session.commit()
    admin = await _admin(app_services, sw)
    mark = attendance.Mark(sw.child.id, AttendanceStatus.LATE, minutes_late=400)
    single = await _refusal(
        app_services, lambda tx: attendance.mark_attendance(tx, actor=admin, lesson_id=lesson.id, marks=[mark])
    )
    bulk = await _refusal(
        app_services,
        lambda tx: sync.sync_attendance(
            tx,
            actor=admin,
            school_id=sw.school.id,
            items=[sync.MarkItem("A-1", "STU-1", "L-1", AttendanceStatus.LATE, minutes_late=400)],
        ),
    )
    assert single == bulk
    assert len(bulk) == 2


@pytest.mark.parametrize(
    ("teacher", "day", "start"),
    [
        ("T-2", MONDAY, dt.time(14, 0)),  # not assigned to the class × subject
        ("T-1", HOLIDAY, dt.time(8, 30)),  # a public holiday
        ("T-1", dt.date(2027, 7, 1), dt.time(8, 30)),  # after the year
        ("T-1", MONDAY, dt.time(8, 40)),  # the class and the teacher busy
    ],
)
async def test_a_lesson_refused(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, teacher: str, day: dt.date, start: dt.time
) -> None:
    await sw.lesson(session, start_time=dt.time(8, 30), end_time=dt.time(9, 15), room=None)
    await session.commit()
    admin = await _admin(app_services, sw)
    end = (dt.datetime.combine(day, start) + dt.timedelta(minutes=45)).time()
    teacher_id = sw.teacher.id if teacher == "T-1" else sw.other_teacher.id
    single = await _refusal(
        app_services,
        lambda tx: lessons.create_lesson(
            tx,
            actor=admin,
            data=lessons.LessonData(
                class_id=sw.school_class.id,
                subject_id=sw.subject.id,
                date=day,
                start_time=start,
                end_time=end,
                teacher_id=teacher_id,
            ),
        ),
    )
    bulk = await _refusal(
        app_services,
        lambda tx: sync.sync_lessons(
            tx,
            actor=admin,
            school_id=sw.school.id,
            items=[sync.LessonItem("L-1", "CLS-1", "SUB-MATH", teacher, day, start, end)],
        ),
    )
    # the messages are the same; a by-hand lesson's label names the lesson in the way
    assert [code for code, _ in single] == [code for code, _ in bulk]
    assert [message for _, message in single] == [message for _, message in bulk]
