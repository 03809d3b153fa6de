"""Lessons made by hand: creating one, and moving, cancelling or otherwise changing it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import audit, diary_facts, record_notices
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.lessons.bookings import Booking, duplicate_slot, hhmm, insert, refuse_conflicts
from ediary_gql.services.lessons.checks import (
    NOT_ASSIGNED,
    NOT_STAFF,
    assigned_pairs,
    check_fields,
    check_in_year,
    check_not_day_off,
    check_substitute,
    class_and_subject,
    clean,
)
from ediary_gql.services.lessons.data import Keep, LessonChanges, LessonData


async def create_lesson(session: AsyncSession, *, actor: Actor, data: LessonData) -> Lesson:
    school_class, _subject = await class_and_subject(session, data.class_id, data.subject_id)
    await diary_facts.require_may_write(session, actor=actor, school_class=school_class, subject_id=data.subject_id)

    errors = ErrorCollector()
    teacher_id = data.teacher_id if data.teacher_id is not None else actor.user_id
    if teacher_id not in await diary_facts.staff_of(session, school_id=school_class.school_id, user_ids=[teacher_id]):
        errors.add("teacherId", ErrorCode.NOT_FOUND, NOT_STAFF)
    elif (teacher_id, data.subject_id) not in await assigned_pairs(session, school_class.id, [teacher_id]):
        # the lesson's teacher grades and marks it: only one assigned to the class × subject
        errors.add(
            "teacherId",
            ErrorCode.INVALID,
            NOT_ASSIGNED
            if data.teacher_id is not None
            else "Вы не назначены на этот предмет в этом классе: укажите учителя урока (teacherId)",
        )
    room = clean(data.room)
    topic = clean(data.topic)
    check_fields(
        errors,
        start_time=data.start_time,
        end_time=data.end_time,
        lesson_number=data.lesson_number,
        room=room,
        topic=topic,
    )
    await check_in_year(session, errors, school_class, data.date)
    await check_not_day_off(session, errors, school_class.school_id, data.date, allowed=data.allow_on_holiday)
    errors.raise_if_any()

    lesson = Lesson(
        school_id=school_class.school_id,
        class_id=school_class.id,
        subject_id=data.subject_id,
        teacher_id=teacher_id,
        date=data.date,
        start_time=data.start_time,
        end_time=data.end_time,
        lesson_number=data.lesson_number,
        room=room,
        topic=topic,
        status=LessonStatus.SCHEDULED,
    )
    await diary_facts.lock_school(session, school_class.school_id)
    await refuse_conflicts(session, Booking.of(lesson), exclude_id=None, teacher_field="teacherId")
    await insert(session, [lesson])
    audit.record(
        session,
        actor=actor,
        action="createLesson",
        entity_type="Lesson",
        entity_id=lesson.id,
        after=snapshot(lesson),
        school_id=lesson.school_id,
    )
    # an extra lesson is news for the class's families, as a generated one is
    record_notices.lessons_added(session, actor_user_id=actor.user_id, lessons=[lesson])
    change_feed.record(
        session, school_id=lesson.school_id, type=ChangeType.LESSON, ids=[lesson.id], action=ChangeAction.CREATED
    )
    return lesson


async def update_lesson(session: AsyncSession, *, actor: Actor, lesson_id: int, changes: LessonChanges) -> Lesson:
    """Move, cancel or restore a lesson, set a substitute teacher, its topic or room."""
    lesson, school_class = await diary_facts.lesson_to_write(
        session, actor=actor, lesson_id=lesson_id, substitute_may_write=False
    )
    before = snapshot(lesson)
    was = record_notices.LessonBefore.of(lesson)

    errors = ErrorCollector()
    date = lesson.date if isinstance(changes.date, Keep) else changes.date
    start = lesson.start_time if isinstance(changes.start_time, Keep) else changes.start_time
    end = lesson.end_time if isinstance(changes.end_time, Keep) else changes.end_time
    number = lesson.lesson_number if isinstance(changes.lesson_number, Keep) else changes.lesson_number
    room = lesson.room if isinstance(changes.room, Keep) else clean(changes.room)
    topic = lesson.topic if isinstance(changes.topic, Keep) else clean(changes.topic)
    status = lesson.status if isinstance(changes.status, Keep) else changes.status
    substitute = (
        lesson.substitute_teacher_id
        if isinstance(changes.substitute_teacher_id, Keep)
        else changes.substitute_teacher_id
    )
    check_fields(errors, start_time=start, end_time=end, lesson_number=number, room=room, topic=topic)
    if date != lesson.date:
        await check_in_year(session, errors, school_class, date)
    # moved to, or restored on, a day off
    if status == LessonStatus.SCHEDULED and (date != lesson.date or lesson.status != LessonStatus.SCHEDULED):
        await check_not_day_off(session, errors, lesson.school_id, date, allowed=changes.allow_on_holiday)
    if substitute is not None and substitute != lesson.substitute_teacher_id:
        check_substitute(
            errors,
            ("substituteTeacherId",),
            substitute=substitute,
            teacher_id=lesson.teacher_id,
            staff=await diary_facts.staff_of(session, school_id=lesson.school_id, user_ids=[substitute])
            if substitute != lesson.teacher_id
            else frozenset(),
        )
    errors.raise_if_any()

    booking_changed = (date, start, end, room, substitute, status) != (
        lesson.date,
        lesson.start_time,
        lesson.end_time,
        lesson.room,
        lesson.substitute_teacher_id,
        lesson.status,
    )
    lesson.date, lesson.start_time, lesson.end_time = date, start, end
    lesson.lesson_number, lesson.room, lesson.topic = number, room, topic
    lesson.status, lesson.substitute_teacher_id = status, substitute
    if booking_changed and status == LessonStatus.SCHEDULED:
        await diary_facts.lock_school(session, lesson.school_id)
        teacher_field = "substituteTeacherId" if substitute is not None else "teacherId"
        await refuse_conflicts(session, Booking.of(lesson), exclude_id=lesson.id, teacher_field=teacher_field)
    elif booking_changed:
        # a cancelled lesson books nothing, but still holds its (class, date, start) slot
        await refuse_conflicts(
            session, Booking.of(lesson), exclude_id=lesson.id, teacher_field="teacherId", slot_only=True
        )
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise duplicate_slot() from None
    after = snapshot(lesson)
    audit.record(
        session,
        actor=actor,
        action="updateLesson",
        entity_type="Lesson",
        entity_id=lesson.id,
        before=before,
        after=after,
        school_id=lesson.school_id,
    )
    record_notices.lesson_changed(session, actor_user_id=actor.user_id, lesson=lesson, before=was)
    if after != before:
        change_feed.record(
            session, school_id=lesson.school_id, type=ChangeType.LESSON, ids=[lesson.id], action=ChangeAction.UPDATED
        )
    return lesson


def snapshot(lesson: Lesson) -> dict[str, object]:
    """A lesson as its audit entries show it."""
    return {
        "class_id": lesson.class_id,
        "subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "substitute_teacher_id": lesson.substitute_teacher_id,
        "date": lesson.date.isoformat(),
        "start_time": hhmm(lesson.start_time),
        "end_time": hhmm(lesson.end_time),
        "lesson_number": lesson.lesson_number,
        "room": lesson.room,
        "topic": lesson.topic,
        "status": str(lesson.status),
    }
