"""Resolvers of grades: enterGrade, correctGrade, deleteGrade and the gradeEvents stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.enums import GradeAction, GradeKind
from ediary_gql.db.models.grades import Grade as GradeRow
from ediary_gql.errors import DomainError
from ediary_gql.events import channels
from ediary_gql.resolvers import diary_access, streams
from ediary_gql.resolvers.diary_access import IdReader
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.grade import (
    CorrectGradeInput,
    DeleteGradeInput,
    EnterGradeInput,
    Grade,
    GradeEvent,
    GradePayload,
)
from ediary_gql.services import grades as service

Info = strawberry.Info[Context, None]


async def enter_grade(info: Info, input: EnterGradeInput) -> GradePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        data = service.GradeData(
            child_id=ids.pk(input.child_id, "Child", "childId"),
            value=input.value.strip().upper(),
            kind=GradeKind(input.kind),
            lesson_id=ids.optional(input.lesson_id, "Lesson", "lessonId"),
            subject_id=ids.optional(input.subject_id, "Subject", "subjectId"),
            period_id=ids.optional(input.period_id, "Period", "periodId"),
            class_id=ids.optional(input.class_id, "SchoolClass", "classId"),
            control_type_id=ids.optional(input.control_type_id, "ControlType", "controlTypeId"),
            comment=input.comment,
        )
        ids.done()
        async with transaction(ctx) as session:
            row = await service.enter_grade(session, actor=actor, data=data)
    except DomainError as exc:
        return GradePayload(user_errors=user_errors(exc))
    return GradePayload(grade=Grade.from_row(row))


async def correct_grade(info: Info, input: CorrectGradeInput) -> GradePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        data = service.GradeCorrection(
            grade_id=ids.pk(input.grade_id, "Grade", "gradeId"),
            reason=input.reason,
            value=input.value.strip().upper() if input.value is not None else None,
            comment=input.comment,
            control_type_id=ids.optional(input.control_type_id, "ControlType", "controlTypeId"),
        )
        ids.done()
        async with transaction(ctx) as session:
            row = await service.correct_grade(session, actor=actor, data=data)
    except DomainError as exc:
        return GradePayload(user_errors=user_errors(exc))
    return GradePayload(grade=Grade.from_row(row))


async def delete_grade(info: Info, input: DeleteGradeInput) -> GradePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        grade_id = ids.pk(input.grade_id, "Grade", "gradeId")
        ids.done()
        async with transaction(ctx) as session:
            row = await service.delete_grade(session, actor=actor, grade_id=grade_id, reason=input.reason)
    except DomainError as exc:
        return GradePayload(user_errors=user_errors(exc))
    return GradePayload(grade=Grade.from_row(row))


async def _may_watch_child(ctx: Context, child_id: int) -> bool:
    """A child's grade feed: their guardians, the child, the school's admins and the
    teachers of the child's current class (each event is then checked per subject)."""
    loaders = ctx.loaders
    if await loaders.by_id(ChildRow).load(child_id) is None:
        return False
    school_id, class_ids = await diary_access.current_school_of_child(loaders, child_id)
    teaches = False
    for class_id in class_ids:
        teaches = teaches or await diary_access.teaches(ctx, loaders, class_id, None)
    return policy.can_view_child_record(ctx.actor, child_id=child_id, school_id=school_id, teaches=teaches)


async def grade_events(info: Info, child_id: relay.GlobalID) -> AsyncGenerator[GradeEvent, None]:
    """Grades of a child created, corrected or deleted, as they are committed. Who may
    follow is checked now and again for every event, with the actor's current facts."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    child_pk = pk_of(child_id, "Child", field="childId")
    first = await diary_access.event_context(ctx, actor)
    policy.ensure(
        first is not None and await _may_watch_child(first, child_pk),
        "Оценки ученика видят его законные представители, сам ученик, его учителя и администрация школы",
    )
    async for event in streams.events(ctx, channels.child_grades(child_pk)):
        grade_id, action = event.get("grade_id"), event.get("action")
        if not isinstance(grade_id, int) or not isinstance(action, str) or action not in GradeAction.__members__:
            continue
        await streams.ensure_session_active(ctx, actor)
        scoped = await diary_access.event_context(ctx, actor)
        if scoped is None:
            return
        row = await scoped.loaders.by_id(GradeRow).load(grade_id)
        if row is not None and row.child_id == child_pk and await Grade.visible(scoped, row):
            yield GradeEvent(action=GradeAction(action), grade=Grade.from_row(row))
