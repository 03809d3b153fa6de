"""Booking rules: no teacher, class or room booked twice at overlapping times, no exact duplicate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select
from sqlalchemy import insert as sql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import DomainError, ErrorCode, FieldError
from ediary_gql.services import diary_facts


@dataclass(frozen=True, slots=True)
class Booking:
    """What a lesson occupies: its class, the teacher actually teaching it, its room."""

    school_id: int
    class_id: int
    subject_id: int
    teacher_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    room: str | None

    @classmethod
    def of(cls, lesson: Lesson) -> Booking:
        return cls(
            school_id=lesson.school_id,
            class_id=lesson.class_id,
            subject_id=lesson.subject_id,
            teacher_id=lesson.substitute_teacher_id or lesson.teacher_id,
            date=lesson.date,
            start_time=lesson.start_time,
            end_time=lesson.end_time,
            room=lesson.room,
        )


def overlap(a_start: dt.time, a_end: dt.time, b_start: dt.time, b_end: dt.time) -> bool:
    return a_start < b_end and b_start < a_end


def hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


async def booked(session: AsyncSession, bookings: Sequence[Booking], *, exclude_id: int | None) -> list[Lesson]:
    """Lessons on the bookings' dates that share a class, a teacher or a room with any of them."""
    if not bookings:
        return []
    dates = {b.date for b in bookings}
    classes = {b.class_id for b in bookings}
    teachers = {b.teacher_id for b in bookings}
    rooms = {b.room for b in bookings if b.room}
    school_id = bookings[0].school_id
    stmt = select(Lesson).where(
        Lesson.date.in_(dates),
        or_(
            Lesson.class_id.in_(classes),
            Lesson.teacher_id.in_(teachers),
            Lesson.substitute_teacher_id.in_(teachers),
            and_(Lesson.school_id == school_id, Lesson.room.in_(rooms)) if rooms else false(),
        ),
    )
    if exclude_id is not None:
        stmt = stmt.where(Lesson.id != exclude_id)
    return list((await session.scalars(stmt.order_by(Lesson.date, Lesson.start_time))).all())


async def lesson_labels(session: AsyncSession, lessons: Sequence[Lesson]) -> dict[int, str]:
    """How a message names each lesson: subject, class, date and time, and its ID."""
    if not lessons:
        return {}
    subjects = dict(
        (
            await session.execute(
                select(Subject.id, Subject.name).where(Subject.id.in_({x.subject_id for x in lessons}))
            )
        ).all()
    )
    classes = {
        row.id: row.name
        for row in await session.scalars(select(SchoolClass).where(SchoolClass.id.in_({x.class_id for x in lessons})))
    }
    return {
        x.id: (
            f"«{subjects.get(x.subject_id, '?')}», {classes.get(x.class_id, '?')}, "
            f"{x.date:%d.%m.%Y} {hhmm(x.start_time)}–{hhmm(x.end_time)} "
            f"(id {diary_facts.global_id('Lesson', x.id)})"
        )
        for x in lessons
    }


def conflicts(
    booking: Booking,
    existing: Iterable[Lesson],
    labels: dict[int, str],
    *,
    teacher_field: str,
    slot_only: bool = False,
) -> list[tuple[FieldError, Lesson]]:
    found: list[tuple[FieldError, Lesson]] = []
    for other in existing:
        if other.date != booking.date:
            continue
        label = labels.get(other.id) or "(новый урок)"
        same_slot = other.class_id == booking.class_id and other.start_time == booking.start_time
        if other.status != LessonStatus.SCHEDULED or slot_only:
            if same_slot:
                found.append(
                    (
                        FieldError(
                            ErrorCode.CONFLICT,
                            f"В это время у класса есть отменённый урок {label}: восстановите или перенесите его"
                            if other.status != LessonStatus.SCHEDULED
                            else f"В это время у класса начинается урок {label}",
                            ("startTime",),
                        ),
                        other,
                    )
                )
            continue
        if not overlap(other.start_time, other.end_time, booking.start_time, booking.end_time):
            continue
        theirs = Booking.of(other)
        if (
            theirs.class_id == booking.class_id
            and theirs.subject_id == booking.subject_id
            and (theirs.start_time, theirs.end_time) == (booking.start_time, booking.end_time)
        ):
            found.append((FieldError(ErrorCode.DUPLICATE, f"Такой урок уже есть: {label}", ()), other))
            continue
        if theirs.class_id == booking.class_id:
            found.append(
                (FieldError(ErrorCode.CONFLICT, f"У класса в это время уже урок {label}", ("classId",)), other)
            )
        if theirs.teacher_id == booking.teacher_id:
            found.append(
                (FieldError(ErrorCode.CONFLICT, f"Учитель в это время ведёт урок {label}", (teacher_field,)), other)
            )
        if booking.room and theirs.room == booking.room and theirs.school_id == booking.school_id:
            found.append(
                (
                    FieldError(
                        ErrorCode.CONFLICT, f"Кабинет {booking.room} в это время занят: урок {label}", ("room",)
                    ),
                    other,
                )
            )
    return found


async def refuse_conflicts(
    session: AsyncSession, booking: Booking, *, exclude_id: int | None, teacher_field: str, slot_only: bool = False
) -> None:
    existing = await booked(session, [booking], exclude_id=exclude_id)
    found = conflicts(
        booking, existing, await lesson_labels(session, existing), teacher_field=teacher_field, slot_only=slot_only
    )
    if found:
        raise DomainError(errors=[problem for problem, _ in found])


def duplicate_slot() -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, "У класса уже есть урок, начинающийся в это время", field="startTime")


async def insert(session: AsyncSession, lessons: Sequence[Lesson]) -> None:
    """Insert; the unique (class, date, start) index is the last word on duplicates."""
    if not lessons:
        return
    try:
        async with session.begin_nested():
            session.add_all(lessons)
            await session.flush()
    except IntegrityError:
        raise duplicate_slot() from None


# the columns a lesson made from a timetable sets
_MADE = (
    "school_id",
    "class_id",
    "subject_id",
    "teacher_id",
    "date",
    "start_time",
    "end_time",
    "lesson_number",
    "room",
    "status",
    "template_id",
)


async def insert_many(session: AsyncSession, lessons: Sequence[Lesson]) -> list[Lesson]:
    """`insert` for many lessons (not yet in the session) in one statement: the rows as
    inserted, in the order given."""
    if not lessons:
        return []
    rows = [{name: getattr(lesson, name) for name in _MADE} for lesson in lessons]
    try:
        async with session.begin_nested():
            made = list((await session.scalars(sql_insert(Lesson).returning(Lesson), rows)).all())
    except IntegrityError:
        raise duplicate_slot() from None
    # (class, date, start) is unique: each row found by it, whatever order RETURNING keeps
    by_slot = {(row.class_id, row.date, row.start_time): row for row in made}
    return [by_slot[(lesson.class_id, lesson.date, lesson.start_time)] for lesson in lessons]
