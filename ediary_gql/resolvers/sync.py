"""Sync by external IDs: syncLessons, syncGrades, syncAttendance (a dry run rolls back
whole and is still reported), nodeBySourcedId, and the sourcedId fields kept in roster
links (a person's at a school, a grade's, a mark's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, StaffRole
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import sync as service
from ediary_gql.services.sync import lookup

if TYPE_CHECKING:
    from ediary_gql.context import Context


class SyncNotApplied(DomainError):
    """A dry run: the transaction rolls back whole, and the payload still reports what
    each item would have done."""

    def __init__(self, result: service.SyncResult) -> None:
        super().__init__(ErrorCode.INVALID_STATE, "Пробный запуск: ничего не записано")
        self.result = result


def _kept(result: service.SyncResult) -> service.SyncResult:
    if not result.applied:
        raise SyncNotApplied(result)
    return result


async def sync_lessons(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, items: Sequence[Any], dry_run: bool
) -> service.SyncResult:
    found = [
        service.LessonItem(
            sourced_id=item.sourced_id,
            class_sourced_id=item.class_sourced_id,
            subject_sourced_id=item.subject_sourced_id,
            teacher_sourced_id=item.teacher_sourced_id,
            date=item.date,
            start_time=item.start_time,
            end_time=item.end_time,
            lesson_number=item.lesson_number,
            room=item.room,
            topic=item.topic,
            status=LessonStatus(item.status),
            substitute_sourced_id=item.substitute_teacher_sourced_id,
            allow_on_holiday=item.allow_on_holiday,
        )
        for item in items
    ]
    return _kept(await service.sync_lessons(session, actor=actor, school_id=school_id, items=found, dry_run=dry_run))


async def sync_grades(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, items: Sequence[Any], dry_run: bool
) -> service.SyncResult:
    found = [
        service.GradeItem(
            sourced_id=item.sourced_id,
            child_sourced_id=item.child_sourced_id,
            lesson_sourced_id=item.lesson_sourced_id,
            value=item.value,
            control_type=item.control_type,
            comment=item.comment,
            reason=item.reason,
        )
        for item in items
    ]
    return _kept(await service.sync_grades(session, actor=actor, school_id=school_id, items=found, dry_run=dry_run))


async def sync_attendance(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, items: Sequence[Any], dry_run: bool
) -> service.SyncResult:
    found = [
        service.MarkItem(
            sourced_id=item.sourced_id,
            child_sourced_id=item.child_sourced_id,
            lesson_sourced_id=item.lesson_sourced_id,
            status=AttendanceStatus(item.status),
            minutes_late=item.minutes_late,
            reason=item.reason,
        )
        for item in items
    ]
    return _kept(await service.sync_attendance(session, actor=actor, school_id=school_id, items=found, dry_run=dry_run))


# --- reads ----------------------------------------------------------------------------------


async def node_by_sourced_id(
    ctx: Context, *, school_id: int, type: service.SourcedType, sourced_id: str
) -> Base | None:
    """The row; the caller shows it only to whoever may see it (the node's own rule)."""
    async with ctx.session_factory() as session:
        return await service.find(session, school_id=school_id, type=type, sourced_id=sourced_id)


def may_see_sourced_ids(ctx: Context, school_id: int) -> bool:
    return policy.can_view_sourced_ids(ctx.actor, school_id)


def viewer_school(ctx: Context) -> int | None:
    """The school a viewer's sourcedIds are read at when none is named: an integration's
    own, or the one school the viewer administers."""
    actor = ctx.actor
    if actor is None:
        return None
    if actor.integration_school_id is not None:
        return actor.integration_school_id
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    return next(iter(schools)) if len(schools) == 1 else None


async def person_sourced_id(ctx: Context, user_id: int, school_id: int | None) -> str | None:
    """The sourcedId a school gave the person (as a teacher, else as a guardian), for those
    who may see that school's (policy.can_view_sourced_ids)."""
    school = school_id if school_id is not None else viewer_school(ctx)
    if school is None or not may_see_sourced_ids(ctx, school):
        return None
    links = await ctx.loaders.grouped(lookup.people_sourced_ids).load(user_id)
    return next((sid for at, _, sid in links if at == school), None)


async def grade_sourced_id(ctx: Context, grade_id: int) -> str | None:
    found = await ctx.loaders.grouped(lookup.grade_sourced_ids).load(grade_id)
    return found[0] if found else None


async def attendance_sourced_id(ctx: Context, mark_id: int) -> str | None:
    found = await ctx.loaders.grouped(lookup.attendance_sourced_ids).load(mark_id)
    return found[0] if found else None
