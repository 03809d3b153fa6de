"""Timetable templates and slots, and lessons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from tests.factories._base import SCHOOL_YEAR_START, fake, persist, take_parents
from tests.factories.calendar import make_period
from tests.factories.classes import make_school_class, make_subject
from tests.factories.schools import make_teacher
from tests.factories.users import make_user

LESSONS_PER_DAY = 7


def lesson_times(number: int) -> tuple[dt.time, dt.time]:
    """Lesson `number` (1-based): 45 minutes from 08:30, with 10-minute breaks."""
    start = dt.datetime(2000, 1, 1, 8, 30) + dt.timedelta(minutes=55 * (number - 1))
    return start.time(), (start + dt.timedelta(minutes=45)).time()


def _school_days(start: dt.date) -> Iterator[dt.date]:
    day = start
    while True:
        if day.isoweekday() <= 5:
            yield day
        day += dt.timedelta(days=1)


async def _class_of(session: AsyncSession, o: dict[str, Any]) -> SchoolClass:
    """The class named in the overrides (made if none), with `school_id` filled in."""
    if "class_id" not in o:
        kwargs = {"school_id": o["school_id"]} if "school_id" in o else {}
        o["class_id"] = (await make_school_class(session, **kwargs)).id
    school_class = await session.get(SchoolClass, o["class_id"])
    assert school_class is not None
    o.setdefault("school_id", school_class.school_id)
    return school_class


async def make_timetable_template(session: AsyncSession, **overrides: Any) -> TimetableTemplate:
    o = take_parents(overrides)
    school_class = await _class_of(session, o)
    if "period_id" not in o:
        o["period_id"] = (await make_period(session, academic_year_id=school_class.academic_year_id)).id
    if "created_by_id" not in o:
        o["created_by_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"name": f"Расписание {school_class.name}"}
    fields.update(o)
    return await persist(session, TimetableTemplate(**fields))


async def make_timetable_slot(session: AsyncSession, **overrides: Any) -> TimetableSlot:
    """The template's first free (weekday, lesson number) from Monday's first lesson."""
    o = take_parents(overrides)
    if "template_id" not in o:
        o["template_id"] = (await make_timetable_template(session)).id
    template = await session.get(TimetableTemplate, o["template_id"])
    assert template is not None
    if "weekday" not in o or "lesson_number" not in o:
        taken = {
            tuple(row)
            for row in (
                await session.execute(
                    select(TimetableSlot.weekday, TimetableSlot.lesson_number).where(
                        TimetableSlot.template_id == template.id
                    )
                )
            )
        }
        weekdays = [o["weekday"]] if "weekday" in o else range(1, 6)
        numbers = [o["lesson_number"]] if "lesson_number" in o else range(1, LESSONS_PER_DAY + 1)
        o["weekday"], o["lesson_number"] = next((w, k) for w in weekdays for k in numbers if (w, k) not in taken)
    start, end = lesson_times(o["lesson_number"])
    if "subject_id" not in o:
        o["subject_id"] = (await make_subject(session, school_id=template.school_id)).id
    if "teacher_id" not in o:
        o["teacher_id"] = (await make_teacher(session, school_id=template.school_id)).id
    fields: dict[str, Any] = {
        "start_time": start,
        "end_time": end,
        "room": str(fake.random_int(101, 350)),
    }
    fields.update(o)
    return await persist(session, TimetableSlot(**fields))


async def make_lesson(session: AsyncSession, **overrides: Any) -> Lesson:
    """A lesson in the class's first free slot from 1 September 2026, Mon–Fri.

    Makes the school, class, subject and teacher (with a membership) if not given.
    """
    o = take_parents(overrides)
    school_class = await _class_of(session, o)
    if "subject_id" not in o:
        o["subject_id"] = (await make_subject(session, school_id=o["school_id"])).id
    if "teacher_id" not in o:
        o["teacher_id"] = (await make_teacher(session, school_id=o["school_id"])).id
    if "date" not in o or "start_time" not in o:
        taken = {
            tuple(row)
            for row in (
                await session.execute(select(Lesson.date, Lesson.start_time).where(Lesson.class_id == school_class.id))
            )
        }
        days = [o["date"]] if "date" in o else _school_days(SCHOOL_YEAR_START)
        numbers = [o["lesson_number"]] if o.get("lesson_number") else range(1, LESSONS_PER_DAY + 1)

        def start_of(number: int) -> dt.time:
            return o["start_time"] if "start_time" in o else lesson_times(number)[0]

        pick = next(((d, k) for d in days for k in numbers if (d, start_of(k)) not in taken), None)
        if pick is None:
            raise ValueError("the class has no free lesson slot on that date")
        o["date"] = pick[0]
        o.setdefault("lesson_number", pick[1])
        o.setdefault("start_time", lesson_times(pick[1])[0])
    fields: dict[str, Any] = {
        "end_time": (dt.datetime.combine(dt.date(2000, 1, 1), o["start_time"]) + dt.timedelta(minutes=45)).time(),
        "room": str(fake.random_int(101, 350)),
        "topic": fake.sentence(nb_words=5).rstrip("."),
        "status": LessonStatus.SCHEDULED,
    }
    fields.update(o)
    return await persist(session, Lesson(**fields))
