"""Grades: enterGrade, correctGrade, deleteGrade and the gradeEvents feed. Inputs come
decoded (schema/ids.py); results are rows and the feed's events, turned into types by
schema/grades.py."""

from __future__ import annotations

import dataclasses
import functools

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import GradeAction, GradeKind
from ediary_gql.db.models.grades import Grade
from ediary_gql.events import channels
from ediary_gql.resolvers import diary_visibility
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import grades as service

NOT_YOURS = "Оценки ученика видят его законные представители, сам ученик, его учителя и администрация школы"


async def enter_grade(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    child_id: int,
    value: str,
    kind: GradeKind,
    lesson_id: int | None,
    subject_id: int | None,
    period_id: int | None,
    class_id: int | None,
    control_type_id: int | None,
    comment: str | None,
) -> Grade:
    data = service.GradeData(
        child_id=child_id,
        value=value.strip().upper(),
        kind=GradeKind(kind),
        lesson_id=lesson_id,
        subject_id=subject_id,
        period_id=period_id,
        class_id=class_id,
        control_type_id=control_type_id,
        comment=comment,
    )
    return await service.enter_grade(session, actor=actor, data=data)


async def correct_grade(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    grade_id: int,
    reason: str,
    value: str | None,
    comment: str | None,
    control_type_id: int | None,
) -> Grade:
    data = service.GradeCorrection(
        grade_id=grade_id,
        reason=reason,
        value=value.strip().upper() if value is not None else None,
        comment=comment,
        control_type_id=control_type_id,
    )
    return await service.correct_grade(session, actor=actor, data=data)


async def delete_grade(ctx: Context, session: AsyncSession, actor: Actor, *, grade_id: int, reason: str) -> Grade:
    return await service.delete_grade(session, actor=actor, grade_id=grade_id, reason=reason)


# --- the feed ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class GradeChange:
    """A grade of the child created, corrected or deleted: the grade as it is now."""

    action: GradeAction
    grade: Grade


def grade_feed(*, child_id: int) -> Feed[GradeChange]:
    """A child's grades as they change: for their guardians, the child, the teachers of the
    child's current class and the school's admins; each grade then only if its subject is
    theirs to see. Whoever loses the right is refused at the next event."""
    return Feed(
        channels=[channels.child_grades(child_id)],
        may_follow=functools.partial(_may_follow, child_id=child_id),
        read=functools.partial(_changed, child_id=child_id),
        refused=NOT_YOURS,
    )


async def _may_follow(ctx: Context, *, child_id: int) -> bool:
    loaders = ctx.loaders
    if await loaders.by_id(Child).load(child_id) is None:
        return False
    school_id, class_ids = await diary_visibility.current_school_of_child(loaders, child_id)
    teaches = False
    for class_id in class_ids:
        teaches = teaches or await diary_visibility.teaches(ctx, loaders, class_id, None)
    return policy.can_view_child_record(ctx.actor, child_id=child_id, school_id=school_id, teaches=teaches)


async def _changed(ctx: Context, heard: Heard, *, child_id: int) -> GradeChange | None:
    grade_id, school_id, action = heard.event.get("grade_id"), heard.event.get("school_id"), heard.event.get("action")
    if not isinstance(grade_id, int) or not isinstance(action, str) or action not in GradeAction.__members__:
        return None
    # by its school too, when the event names it: one partition of grades read
    if isinstance(school_id, int):
        row = await ctx.loaders.by_partition(Grade).load((school_id, grade_id))
    else:
        row = await ctx.loaders.by_id(Grade).load(grade_id)
    if row is None or row.child_id != child_id:
        return None
    if not await diary_visibility.may_view_child_record(
        ctx, child_id=row.child_id, class_id=row.class_id, subject_id=row.subject_id
    ):
        return None
    return GradeChange(action=GradeAction(action), grade=row)
