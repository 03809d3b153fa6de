"""Resolvers of the schedule: createLesson, updateLesson, createTimetableTemplate, generateLessons."""

from __future__ import annotations

from typing import Any

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.resolvers.diary_access import IdReader
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.types.lesson import (
    CreateLessonInput,
    CreateTimetableTemplateInput,
    GenerateLessonsInput,
    GenerateLessonsPayload,
    Lesson,
    LessonPayload,
    SkippedLesson,
    TimetableTemplate,
    TimetableTemplatePayload,
    UpdateLessonInput,
)
from ediary_gql.services import lessons as service

Info = strawberry.Info[Context, None]


async def create_lesson(info: Info, input: CreateLessonInput) -> LessonPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        data = service.LessonData(
            class_id=ids.pk(input.class_id, "SchoolClass", "classId"),
            subject_id=ids.pk(input.subject_id, "Subject", "subjectId"),
            teacher_id=ids.optional(input.teacher_id, "User", "teacherId"),
            date=input.date,
            start_time=input.start_time,
            end_time=input.end_time,
            lesson_number=input.lesson_number,
            room=input.room,
            topic=input.topic,
        )
        ids.done()
        async with transaction(ctx) as session:
            row = await service.create_lesson(session, actor=actor, data=data)
    except DomainError as exc:
        return LessonPayload(user_errors=user_errors(exc))
    return LessonPayload(lesson=Lesson.from_row(row))


def _given(value: Any) -> Any:
    return service.KEEP if value is strawberry.UNSET else value


async def update_lesson(info: Info, input: UpdateLessonInput) -> LessonPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        lesson_id = ids.pk(input.lesson_id, "Lesson", "lessonId")
        substitute: Any = _given(input.substitute_teacher_id)
        if substitute is not None and substitute is not service.KEEP:
            substitute = ids.pk(substitute, "User", "substituteTeacherId")
        for name, value in (
            ("date", input.date),
            ("startTime", input.start_time),
            ("endTime", input.end_time),
            ("status", input.status),
        ):
            if value is None:
                ids.errors.add(name, ErrorCode.REQUIRED, "Поле нельзя очистить")
        ids.done()
        changes = service.LessonChanges(
            date=_given(input.date),
            start_time=_given(input.start_time),
            end_time=_given(input.end_time),
            lesson_number=_given(input.lesson_number),
            room=_given(input.room),
            topic=_given(input.topic),
            status=service.KEEP if input.status in (strawberry.UNSET, None) else LessonStatus(input.status),
            substitute_teacher_id=substitute,
        )
        async with transaction(ctx) as session:
            row = await service.update_lesson(session, actor=actor, lesson_id=lesson_id, changes=changes)
    except DomainError as exc:
        return LessonPayload(user_errors=user_errors(exc))
    return LessonPayload(lesson=Lesson.from_row(row))


async def create_timetable_template(info: Info, input: CreateTimetableTemplateInput) -> TimetableTemplatePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        data = service.TemplateData(
            class_id=ids.pk(input.class_id, "SchoolClass", "classId"),
            period_id=ids.pk(input.period_id, "Period", "periodId"),
            name=input.name,
            slots=[
                service.SlotData(
                    weekday=slot.weekday,
                    start_time=slot.start_time,
                    end_time=slot.end_time,
                    subject_id=ids.pk(slot.subject_id, "Subject", ("slots", str(i), "subjectId")),
                    teacher_id=ids.pk(slot.teacher_id, "User", ("slots", str(i), "teacherId")),
                    lesson_number=slot.lesson_number,
                    room=slot.room,
                )
                for i, slot in enumerate(input.slots)
            ],
        )
        ids.done()
        async with transaction(ctx) as session:
            row = await service.create_timetable_template(session, actor=actor, data=data)
    except DomainError as exc:
        return TimetableTemplatePayload(user_errors=user_errors(exc))
    return TimetableTemplatePayload(template=TimetableTemplate.from_row(row))


async def generate_lessons(info: Info, input: GenerateLessonsInput) -> GenerateLessonsPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        template_id = ids.pk(input.template_id, "TimetableTemplate", "templateId")
        ids.done()
        async with transaction(ctx) as session:
            result = await service.generate_lessons(
                session, actor=actor, template_id=template_id, start=input.from_, end=input.to
            )
    except DomainError as exc:
        return GenerateLessonsPayload(user_errors=user_errors(exc))
    return GenerateLessonsPayload(
        lessons=[Lesson.from_row(row) for row in result.created],
        already_present_count=result.already_present,
        skipped=[
            SkippedLesson(
                date=s.date,
                start_time=s.start_time,
                code=s.code,
                message=s.message,
                _conflicting_lesson_id=s.conflicting_lesson_id,
            )
            for s in result.skipped
        ],
    )
