"""The schedule: createLesson, updateLesson, createTimetableTemplate, generateLessons.
Inputs come decoded (schema/ids.py); results are rows and the generation's result,
turned into types by schema/lessons.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson, TimetableTemplate
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import lessons as service
from ediary_gql.services.lessons.data import GenerationResult


async def create_lesson(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    class_id: int,
    subject_id: int,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    teacher_id: int | None,
    lesson_number: int | None,
    room: str | None,
    topic: str | None,
    allow_on_holiday: bool,
) -> Lesson:
    data = service.LessonData(
        class_id=class_id,
        subject_id=subject_id,
        teacher_id=teacher_id,
        date=date,
        start_time=start_time,
        end_time=end_time,
        lesson_number=lesson_number,
        room=room,
        topic=topic,
        allow_on_holiday=allow_on_holiday,
    )
    return await service.create_lesson(session, actor=actor, data=data)


def _given(value: Any) -> Any:
    """An input field left out keeps what the lesson has."""
    return service.KEEP if value is strawberry.UNSET else value


async def update_lesson(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    lesson_id: int,
    date: dt.date | None,
    start_time: dt.time | None,
    end_time: dt.time | None,
    lesson_number: int | None,
    room: str | None,
    topic: str | None,
    status: LessonStatus | None,
    substitute_teacher_id: int | None,
    allow_on_holiday: bool,
) -> Lesson:
    """Fields left out (UNSET) are kept; null clears an optional one, and is refused for the rest."""
    errors = ErrorCollector()
    for name, value in (("date", date), ("startTime", start_time), ("endTime", end_time), ("status", status)):
        if value is None:
            errors.add(name, ErrorCode.REQUIRED, "Поле нельзя очистить")
    errors.raise_if_any()
    changes = service.LessonChanges(
        date=_given(date),
        start_time=_given(start_time),
        end_time=_given(end_time),
        lesson_number=_given(lesson_number),
        room=_given(room),
        topic=_given(topic),
        status=service.KEEP if status in (strawberry.UNSET, None) else LessonStatus(status),
        substitute_teacher_id=_given(substitute_teacher_id),
        allow_on_holiday=allow_on_holiday,
    )
    return await service.update_lesson(session, actor=actor, lesson_id=lesson_id, changes=changes)


async def create_timetable_template(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    class_id: int,
    period_id: int,
    name: str,
    slots: Sequence[Any],
) -> TimetableTemplate:
    data = service.TemplateData(
        class_id=class_id,
        period_id=period_id,
        name=name,
        slots=[
            service.SlotData(
                weekday=slot.weekday,
                start_time=slot.start_time,
                end_time=slot.end_time,
                subject_id=slot.subject_id,
                teacher_id=slot.teacher_id,
                lesson_number=slot.lesson_number,
                room=slot.room,
            )
            for slot in slots
        ],
    )
    return await service.create_timetable_template(session, actor=actor, data=data)


async def generate_lessons(
    ctx: Context, session: AsyncSession, actor: Actor, *, template_id: int, from_: dt.date, to: dt.date
) -> GenerationResult:
    return await service.generate_lessons(session, actor=actor, template_id=template_id, start=from_, end=to)
