"""Resolvers of attendance: markAttendance, the attendanceEvents feed and the
attendanceSummary dashboard stream."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.db.models.schools import School as SchoolRow
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


async def _may_watch(ctx: Context, *, class_id: int | None, school_id: int | None) -> bool:
    loaders = ctx.loaders
    if class_id is not None:
        row = await loaders.by_id(SchoolClassRow).load(class_id)
        if row is None:
            return False
        teaches = await diary_access.teaches(ctx, loaders, class_id, None)
        return policy.can_watch_attendance(ctx.actor, school_id=row.school_id, teaches_class=teaches)
    assert school_id is not None  # noqa: S101 - one of the two is given
    if await loaders.by_id(SchoolRow).load(school_id) is None:
        return False
    return policy.can_watch_attendance(ctx.actor, school_id=school_id, teaches_class=None)


def _scope(class_id: relay.GlobalID | None, school_id: relay.GlobalID | None) -> tuple[int | None, int | None]:
    if (class_id is None) == (school_id is None):
        raise DomainError(ErrorCode.INVALID, "Укажите либо класс, либо школу", field="classId")
    if class_id is not None:
        return pk_of(class_id, "SchoolClass", field="classId"), None
    assert school_id is not None  # noqa: S101 - checked above
    return None, pk_of(school_id, "School", field="schoolId")


async def _start(ctx: Context, actor: Actor, *, class_id: int | None, school_id: int | None) -> None:
    first = await diary_access.event_context(ctx, actor)
    policy.ensure(first is not None and await _may_watch(first, class_id=class_id, school_id=school_id), WATCH_REFUSED)


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
    async for event in streams.events(ctx, channel):
        lesson_id = event.get("lesson_id")
        if not isinstance(lesson_id, int):
            continue
        await streams.ensure_session_active(ctx, actor)
        scoped = await diary_access.event_context(ctx, actor)
        if scoped is None or not await _may_watch(scoped, class_id=class_pk, school_id=school_pk):
            return
        lesson = await scoped.loaders.by_id(LessonRow).load(lesson_id)
        if lesson is None:
            continue
        loader = scoped.loaders.grouped("attendance.lesson_marks", service.lesson_marks)
        marks = await loader.load(lesson.id)
        yield LessonAttendance(lesson=Lesson.from_row(lesson), marks=[Attendance.from_row(m) for m in marks])


async def _summary(ctx: Context, class_id: int, date: dt.date) -> AttendanceSummary:
    async with ctx.session_factory() as session:
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


async def attendance_summary(
    info: Info, class_id: relay.GlobalID, date: dt.date
) -> AsyncGenerator[AttendanceSummary, None]:
    """The day's counts for a class: at once, then after every change of that day's marks."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    class_pk = pk_of(class_id, "SchoolClass", field="classId")
    await _start(ctx, actor, class_id=class_pk, school_id=None)
    events = streams.events(ctx, channels.class_attendance(class_pk))
    # listen before the first read, so no change falls between the read and the stream
    pending: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(anext(events))
    try:
        await asyncio.sleep(0)
        yield await _summary(ctx, class_pk, date)
        while True:
            try:
                event = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(events))
            if event.get("date") != date.isoformat():
                continue
            await streams.ensure_session_active(ctx, actor)
            scoped = await diary_access.event_context(ctx, actor)
            if scoped is None or not await _may_watch(scoped, class_id=class_pk, school_id=None):
                return
            yield await _summary(ctx, class_pk, date)
    finally:
        if not pending.done():
            pending.cancel()
            # let the cancelled read finish before closing the stream it is reading,
            # or aclose() finds the generator still running
            with contextlib.suppress(BaseException):
                await pending
        elif not pending.cancelled():
            pending.exception()  # retrieved: the stream is closing
        if isinstance(events, AsyncGenerator):
            await events.aclose()
