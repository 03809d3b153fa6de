"""Resolvers of attendance: markAttendance, the attendanceEvents feed and the
attendanceSummary dashboard stream."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.concurrency import single_flight
from ediary_gql.context import Context
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.attendance import Attendance as AttendanceRow
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.resolvers import diary_access, streams
from ediary_gql.resolvers.diary_access import IdReader
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.attendance import (
    Attendance,
    AttendanceCounts,
    AttendanceSummary,
    LessonAttendance,
    MarkAttendanceInput,
    MarkAttendancePayload,
)
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.services import attendance as service

Info = strawberry.Info[Context, None]

WATCH_REFUSED = "Посещаемость класса видят его учителя и администрация школы, школы — её администрация"


async def mark_attendance(info: Info, input: MarkAttendanceInput) -> MarkAttendancePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        lesson_id = ids.pk(input.lesson_id, "Lesson", "lessonId")
        marks = [
            service.Mark(
                child_id=ids.pk(mark.child_id, "Child", ("marks", str(i), "childId")),
                status=AttendanceStatus(mark.status),
                minutes_late=mark.minutes_late,
                reason=mark.reason,
            )
            for i, mark in enumerate(input.marks)
        ]
        ids.done()
        async with transaction(ctx) as session:
            lesson, rows = await service.mark_attendance(session, actor=actor, lesson_id=lesson_id, marks=marks)
    except DomainError as exc:
        return MarkAttendancePayload(user_errors=user_errors(exc))
    return MarkAttendancePayload(lesson=Lesson.from_row(lesson), marks=[Attendance.from_row(r) for r in rows])


async def _may_watch(ctx: Context, actor: Actor, *, class_id: int | None, school_id: int | None) -> bool:
    """Decided for one subscriber; the class's (school's) facts are read with every
    other subscriber's asking in the same loop turn."""
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


async def _still_watching(ctx: Context, actor: Actor, *, class_id: int | None, school_id: int | None) -> Actor | None:
    """The actor's current facts while it may still watch the feed; None once the right is lost."""
    current = await diary_access.fresh_actor(ctx, actor)
    if current is None or not await _may_watch(ctx, current, class_id=class_id, school_id=school_id):
        return None
    return current


def _scope(class_id: relay.GlobalID | None, school_id: relay.GlobalID | None) -> tuple[int | None, int | None]:
    if (class_id is None) == (school_id is None):
        raise DomainError(ErrorCode.INVALID, "Укажите либо класс, либо школу", field="classId")
    if class_id is not None:
        return pk_of(class_id, "SchoolClass", field="classId"), None
    assert school_id is not None  # noqa: S101 - checked above
    return None, pk_of(school_id, "School", field="schoolId")


async def _start(ctx: Context, actor: Actor, *, class_id: int | None, school_id: int | None) -> None:
    watching = await _still_watching(ctx, actor, class_id=class_id, school_id=school_id)
    policy.ensure(watching is not None, WATCH_REFUSED)


async def attendance_events(
    info: Info, class_id: relay.GlobalID | None = None, school_id: relay.GlobalID | None = None
) -> AsyncGenerator[LessonAttendance, None]:
    """A lesson and all its marks, each time they change, for a class or a whole school."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    class_pk, school_pk = _scope(class_id, school_id)
    await _start(ctx, actor, class_id=class_pk, school_id=school_pk)
    channel = (
        channels.class_attendance(class_pk) if class_pk is not None else channels.school_attendance(school_pk or 0)
    )
    async with streams.listening(ctx, channel) as events:
        async for event in events:
            heard = single_flight.ticket()
            lesson_id = event.get("lesson_id")
            if not isinstance(lesson_id, int):
                continue
            await streams.ensure_session_active(ctx, actor)
            if await _still_watching(ctx, actor, class_id=class_pk, school_id=school_pk) is None:
                return
            found = await _lesson_marks(ctx, lesson_id, fresh_after=heard)
            if found is None:
                continue
            lesson, marks = found
            ctx.loaders = ctx.fresh_loaders()  # nested fields read this event's rows, not the connection's
            ctx.loaders.by_id(LessonRow).prime(lesson.id, lesson)
            yield LessonAttendance(lesson=Lesson.from_row(lesson), marks=[Attendance.from_row(m) for m in marks])


async def _lesson_marks(
    ctx: Context, lesson_id: int, *, fresh_after: single_flight.Ticket
) -> tuple[LessonRow, list[AttendanceRow]] | None:
    """A lesson and its marks, read once for every subscriber that heard of the same change."""
    session_factory = ctx.session_factory

    async def read() -> tuple[LessonRow, list[AttendanceRow]] | None:
        async with session_factory() as session:
            lesson = await session.get(LessonRow, lesson_id)
            if lesson is None:
                return None
            return lesson, [mark for _, mark in await service.lesson_marks(session, [lesson_id])]

    key = ("attendance.lesson_marks", lesson_id)
    return await ctx.services.shared_reads.flights.run(key, read, fresh_after=fresh_after)


async def _summary(
    ctx: Context, class_id: int, date: dt.date, *, fresh_after: single_flight.Ticket
) -> AttendanceSummary:
    """The day's summary, computed once for every subscriber that heard of the same change."""
    session_factory = ctx.session_factory

    async def compute() -> AttendanceSummary:
        async with session_factory() as session:
            found = await service.summary(session, class_id=class_id, date=date)
        counts = found.counts
        return AttendanceSummary(
            class_id=relay.GlobalID("SchoolClass", str(class_id)),
            date=date,
            counts=AttendanceCounts(
                present=counts.get(AttendanceStatus.PRESENT, 0),
                absent=counts.get(AttendanceStatus.ABSENT, 0),
                late=counts.get(AttendanceStatus.LATE, 0),
                excused=counts.get(AttendanceStatus.EXCUSED, 0),
                sick=counts.get(AttendanceStatus.SICK, 0),
                unmarked=counts.get("unmarked", 0),
            ),
            lessons=found.lessons,
            children=found.children,
            updated_at=utcnow(),
        )

    key = ("attendance.summary", class_id, date)
    return await ctx.services.shared_reads.flights.run(key, compute, fresh_after=fresh_after)


async def attendance_summary(
    info: Info, class_id: relay.GlobalID, date: dt.date
) -> AsyncGenerator[AttendanceSummary, None]:
    """The day's counts for a class: at once, then after every change of that day's marks."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    class_pk = pk_of(class_id, "SchoolClass", field="classId")
    await _start(ctx, actor, class_id=class_pk, school_id=None)
    async with streams.listening(ctx, channels.class_attendance(class_pk)) as events:
        # read once the stream listens, so no change falls between the read and the stream
        yield await _summary(ctx, class_pk, date, fresh_after=single_flight.ticket())
        async for event in events:
            heard = single_flight.ticket()
            if event.get("date") != date.isoformat():
                continue
            await streams.ensure_session_active(ctx, actor)
            if await _still_watching(ctx, actor, class_id=class_pk, school_id=None) is None:
                return
            yield await _summary(ctx, class_pk, date, fresh_after=heard)
