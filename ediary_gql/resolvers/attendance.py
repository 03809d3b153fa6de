"""Attendance: markAttendance, the attendanceEvents feed and the attendanceSummary
dashboard feed. Inputs come decoded (schema/ids.py); results are rows and small
results, turned into types by schema/attendance.py.

Both feeds wake every subscriber of a class (or school) at once: the facts behind each
one's check and what they all re-read are read once for all of them, through the
process's shared reads and single flights (resolvers/shared_reads.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.concurrency import single_flight
from ediary_gql.context import Context
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import attendance as service

WATCH_REFUSED = "Посещаемость класса видят его учителя и администрация школы, школы — её администрация"


@dataclasses.dataclass(frozen=True, slots=True)
class LessonMarks:
    """A lesson and all its marks."""

    lesson: Lesson
    marks: list[Attendance]


@dataclasses.dataclass(frozen=True, slots=True)
class DaySummary:
    """A class's attendance on a day, as computed at `updated_at`."""

    summary: service.Summary
    updated_at: dt.datetime


async def mark_attendance(
    ctx: Context, session: AsyncSession, actor: Actor, *, lesson_id: int, marks: Sequence[Any]
) -> LessonMarks:
    lesson, rows = await service.mark_attendance(
        session,
        actor=actor,
        lesson_id=lesson_id,
        marks=[
            service.Mark(
                child_id=mark.child_id,
                status=AttendanceStatus(mark.status),
                minutes_late=mark.minutes_late,
                reason=mark.reason,
            )
            for mark in marks
        ],
    )
    return LessonMarks(lesson=lesson, marks=list(rows))


# --- the feeds --------------------------------------------------------------------------------


def events_feed(*, class_id: int | None, school_id: int | None) -> Feed[LessonMarks]:
    """A lesson and all its marks each time they change: of a class (its teachers, the
    school's admins) or of a whole school (its admins); exactly one of the two."""
    if (class_id is None) == (school_id is None):
        raise DomainError(ErrorCode.INVALID, "Укажите либо класс, либо школу", field="classId")
    channel = (
        channels.class_attendance(class_id) if class_id is not None else channels.school_attendance(school_id or 0)
    )
    return Feed(
        channels=[channel],
        may_follow=functools.partial(_may_watch, class_id=class_id, school_id=school_id),
        read=_lesson_marks,
        refused=WATCH_REFUSED,
    )


def summary_feed(*, class_id: int, date: dt.date) -> Feed[DaySummary]:
    """A class's counts on a day: at once, then after every change of that day's marks."""
    return Feed(
        channels=[channels.class_attendance(class_id)],
        may_follow=functools.partial(_may_watch, class_id=class_id, school_id=None),
        read=functools.partial(_summary_changed, class_id=class_id, date=date),
        refused=WATCH_REFUSED,
        first=functools.partial(_summary_now, class_id=class_id, date=date),
    )


async def _may_watch(ctx: Context, *, class_id: int | None, school_id: int | None) -> bool:
    """Decided for one subscriber; the class's (school's) facts are read with every
    other subscriber's asking in the same loop turn."""
    actor = policy.require_actor(ctx.actor)
    shared = ctx.services.shared_reads
    if class_id is not None:
        staff = await shared.class_staff(class_id)
        if staff is None:
            return False
        teaches = actor.user_id in staff.teacher_ids
        return policy.can_watch_attendance(actor, school_id=staff.school_id, teaches_class=teaches)
    assert school_id is not None  # noqa: S101 - one of the two is given
    if not await shared.school_exists(school_id):
        return False
    return policy.can_watch_attendance(actor, school_id=school_id, teaches_class=None)


async def _lesson_marks(ctx: Context, heard: Heard) -> LessonMarks | None:
    """The lesson an event is about and its marks, read once for every subscriber that
    heard of the same change; the lesson is primed in this event's loaders for nested fields."""
    lesson_id = heard.event.get("lesson_id")
    if not isinstance(lesson_id, int):
        return None
    session_factory = ctx.session_factory

    async def read() -> LessonMarks | None:
        async with session_factory() as session:
            lesson = await session.get(Lesson, lesson_id)
            if lesson is None:
                return None
            return LessonMarks(lesson=lesson, marks=[mark for _, mark in await service.lesson_marks(session, lesson)])

    key = ("attendance.lesson_marks", lesson_id)
    found: LessonMarks | None = await ctx.services.shared_reads.flights.run(key, read, fresh_after=heard.ticket)
    if found is not None:
        ctx.loaders.by_id(Lesson).prime(found.lesson.id, found.lesson)
    return found


async def _summary_now(ctx: Context, ticket: single_flight.Ticket, *, class_id: int, date: dt.date) -> DaySummary:
    return await _summary(ctx, class_id, date, fresh_after=ticket)


async def _summary_changed(ctx: Context, heard: Heard, *, class_id: int, date: dt.date) -> DaySummary | None:
    if heard.event.get("date") != date.isoformat():
        return None
    # once per change for every subscriber of the process: the summary read after it committed
    return await ctx.services.shared_reads.once_per_event(
        heard.position,
        ("attendance.summary", class_id, date),
        lambda: _summary(ctx, class_id, date, fresh_after=heard.ticket),
    )


async def _summary(ctx: Context, class_id: int, date: dt.date, *, fresh_after: single_flight.Ticket) -> DaySummary:
    """The day's summary, computed once for every subscriber that heard of the same change."""
    session_factory = ctx.session_factory

    async def compute() -> DaySummary:
        async with session_factory() as session:
            found = await service.summary(session, class_id=class_id, date=date)
        return DaySummary(summary=found, updated_at=utcnow())

    key = ("attendance.summary", class_id, date)
    summary: DaySummary = await ctx.services.shared_reads.flights.run(key, compute, fresh_after=fresh_after)
    return summary
