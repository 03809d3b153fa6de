"""syncLessons: lessons keyed by sourcedId. A new sourcedId is created as `createLesson`
creates a lesson, a known one changed as `updateLesson` changes it (moved, cancelled or
restored, a substitute, its room, topic or number); its class, subject and teacher stay.
A lesson made by hand (or from a timetable) with no sourcedId, at the same class, date,
start and subject, is taken over by the item instead of booked twice.

The booking rules are checked for the batch as a whole: against the school's other
lessons and between the items (`bookings.conflicts`), under the school's lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import IntegrationScope, LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import changes as change_feed
from ediary_gql.services import diary_facts, record_notices
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.lessons import bookings, checks
from ediary_gql.services.lessons.by_hand import snapshot
from ediary_gql.services.roster_import.lookup import by_external_id, by_ids, roster_links
from ediary_gql.services.sync.batch import (
    Action,
    Synced,
    SyncResult,
    begin,
    check_sourced_ids,
    insert_returning,
    path,
    referenced,
    refusing_conflicts,
    summarize,
)

REFUSED = "Синхронизировать расписание могут ответственный за дневник школы и её интеграция с правом roster:write"
FIXED = (
    "Класс, предмет и учитель урока не меняются: отмените урок и создайте другой "
    "(замену укажите в substituteTeacherSourcedId)"
)
# the booking rules' fields, as the items name them
FIELDS = {"classId": "classSourcedId", "teacherId": "teacherSourcedId", "startTime": "startTime", "room": "room"}


@dataclass(frozen=True, slots=True)
class LessonItem:
    sourced_id: str
    class_sourced_id: str
    subject_sourced_id: str
    teacher_sourced_id: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    lesson_number: int | None = None
    room: str | None = None
    topic: str | None = None
    status: LessonStatus = LessonStatus.SCHEDULED
    substitute_sourced_id: str | None = None
    allow_on_holiday: bool = False  # a make-up day on a holiday or a day off


@dataclass(slots=True)
class _Planned:
    index: int
    item: LessonItem
    want: Lesson  # the lesson as the item has it (transient: not in the session)
    row: Lesson | None  # the lesson now: None for a new one

    @property
    def changes(self) -> bool:
        return self.row is None or _state(self.row) != _state(self.want) or self.row.external_id is None

    @property
    def books_anew(self) -> bool:
        """A booking to check: a new lesson, or one moved, restored, given a substitute or a room."""
        return (
            self.row is None
            or bookings.Booking.of(self.row) != bookings.Booking.of(self.want)
            or (self.row.status != self.want.status)
        )


async def sync_lessons(
    session: AsyncSession, *, actor: Actor, school_id: int, items: Sequence[LessonItem], dry_run: bool = False
) -> SyncResult:
    begin(actor, school_id=school_id, items=items, scope=IntegrationScope.ROSTER_WRITE, refused=REFUSED)
    await diary_facts.lock_school(session, school_id)  # the booking checks below hold until the commit
    errors = ErrorCollector()
    bad = check_sourced_ids(errors, items)
    classes = await by_external_id(session, SchoolClass, school_id, referenced(items, "class_sourced_id"))
    subjects = await by_external_id(session, Subject, school_id, referenced(items, "subject_sourced_id"))
    teacher_sids = referenced(items, "teacher_sourced_id") | referenced(items, "substitute_sourced_id")
    teachers = {
        sid: link.target_id for sid, link in (await roster_links(session, school_id, "TEACHER", teacher_sids)).items()
    }
    known = await by_external_id(session, Lesson, school_id, referenced(items, "sourced_id"))
    staff = await diary_facts.staff_of(session, school_id=school_id, user_ids=teachers.values())
    assigned = await checks.assignments_in(session, [c.id for c in classes.values()], teachers.values())
    years = await by_ids(session, AcademicYear, {c.academic_year_id for c in classes.values()})

    planned: list[_Planned] = []
    for i, item in enumerate(items):
        school_class = classes.get(item.class_sourced_id)
        subject = subjects.get(item.subject_sourced_id)
        teacher_id = teachers.get(item.teacher_sourced_id)
        substitute_id = teachers.get(item.substitute_sourced_id) if item.substitute_sourced_id else None
        if school_class is None:
            errors.add(path(i, "classSourcedId"), ErrorCode.NOT_FOUND, "Класс с таким sourcedId не найден в школе")
        if subject is None:
            errors.add(path(i, "subjectSourcedId"), ErrorCode.NOT_FOUND, "Предмет с таким sourcedId не найден в школе")
        if teacher_id is None:
            errors.add(path(i, "teacherSourcedId"), ErrorCode.NOT_FOUND, "Учитель с таким sourcedId не найден в школе")
        if item.substitute_sourced_id and substitute_id is None:
            errors.add(
                path(i, "substituteTeacherSourcedId"),
                ErrorCode.NOT_FOUND,
                "Учитель с таким sourcedId не найден в школе",
            )
        room, topic = checks.clean(item.room), checks.clean(item.topic)
        checks.check_fields(
            errors,
            start_time=item.start_time,
            end_time=item.end_time,
            lesson_number=item.lesson_number,
            room=room,
            topic=topic,
            prefix=path(i),
        )
        if school_class is None or subject is None or teacher_id is None or i in bad:
            continue
        if item.substitute_sourced_id and substitute_id is None:
            continue
        want = Lesson(
            id=-(i + 1),  # a stand-in id, for the booking rules to tell the items apart
            school_id=school_id,
            class_id=school_class.id,
            subject_id=subject.id,
            teacher_id=teacher_id,
            substitute_teacher_id=substitute_id,
            date=item.date,
            start_time=item.start_time,
            end_time=item.end_time,
            lesson_number=item.lesson_number,
            room=room,
            topic=topic,
            status=item.status,
            external_id=item.sourced_id,
        )
        planned.append(_Planned(i, item, want, known.get(item.sourced_id)))

    # What the items would book, beside the lessons they are: the school's other lessons on
    # those dates (and lessons with no sourcedId each new item takes over, at its slot).
    booked = await bookings.booked(session, [bookings.Booking.of(p.want) for p in planned], exclude_id=None)
    _take_over(planned, booked)
    mine = {p.row.id for p in planned if p.row is not None}
    years_of = {c.id: years.get(c.academic_year_id) for c in classes.values()}
    in_year = [p.want.date for p in planned if _in_year(years_of.get(p.want.class_id), p.want.date)]
    off = await checks.days_off(session, school_id, min(in_year), max(in_year)) if in_year else {}
    for p in planned:
        _check(errors, p, staff=staff, assigned=assigned, year=years_of.get(p.want.class_id), off=off)

    others = [lesson for lesson in booked if lesson.id not in mine]
    labels = await bookings.lesson_labels(session, others)
    labels.update({p.want.id: f"из items.{p.index} (sourcedId «{p.item.sourced_id}»)" for p in planned})
    taken = others + [p.want for p in planned if not p.books_anew]
    for p in planned:
        if not p.books_anew:
            continue
        teacher_field = "substituteTeacherSourcedId" if p.want.substitute_teacher_id else "teacherSourcedId"
        found = bookings.conflicts(
            bookings.Booking.of(p.want),
            taken,
            labels,
            teacher_field="teacherId",
            slot_only=p.want.status != LessonStatus.SCHEDULED,
        )
        for problem, _ in found:
            field = tuple(teacher_field if f == "teacherId" else FIELDS.get(f, f) for f in problem.field)
            errors.add((*path(p.index), *field), problem.code, problem.message)
        taken.append(p.want)
    errors.raise_if_any()

    return SyncResult(applied=not dry_run, items=await _write(session, actor, school_id, planned))


def _take_over(planned: list[_Planned], booked: list[Lesson]) -> None:
    """A new item at the slot (class, date, start) of a lesson of the same subject with no
    sourcedId is that lesson."""
    free = {
        (lesson.class_id, lesson.date, lesson.start_time): lesson for lesson in booked if lesson.external_id is None
    }
    for p in planned:
        if p.row is None:
            lesson = free.get((p.want.class_id, p.want.date, p.want.start_time))
            if lesson is not None and lesson.subject_id == p.want.subject_id:
                p.row = lesson
                del free[(lesson.class_id, lesson.date, lesson.start_time)]


def _check(
    errors: ErrorCollector,
    p: _Planned,
    *,
    staff: frozenset[int],
    assigned: frozenset[tuple[int, int, int]],
    year: AcademicYear | None,
    off: dict[dt.date, str],
) -> None:
    """An item's rules beside the bookings: createLesson's for a new lesson, updateLesson's
    for a known one (whose class, subject and teacher stay)."""
    want, row, item = p.want, p.row, p.item
    at = path(p.index)
    day = (*at, "date")
    if row is None:
        if want.teacher_id not in staff:
            errors.add((*at, "teacherSourcedId"), ErrorCode.NOT_FOUND, checks.NOT_STAFF)
        elif (want.class_id, want.teacher_id, want.subject_id) not in assigned:
            # the lesson's teacher grades and marks it: only one assigned to the class × subject
            errors.add((*at, "teacherSourcedId"), ErrorCode.INVALID, checks.NOT_ASSIGNED)
        checks.check_year(errors, year, want.date, day)
        if want.status == LessonStatus.SCHEDULED and not item.allow_on_holiday:
            checks.check_day(errors, want.date, off.get(want.date), day)
        substitute_before = None
    else:
        for field, now, then in (
            ("classSourcedId", want.class_id, row.class_id),
            ("subjectSourcedId", want.subject_id, row.subject_id),
            ("teacherSourcedId", want.teacher_id, row.teacher_id),
        ):
            if now != then:
                errors.add((*at, field), ErrorCode.INVALID, FIXED)
        if want.date != row.date:
            checks.check_year(errors, year, want.date, day)
        # moved to, or restored on, a day off
        moved = want.date != row.date or row.status != LessonStatus.SCHEDULED
        if want.status == LessonStatus.SCHEDULED and moved and not item.allow_on_holiday:
            checks.check_day(errors, want.date, off.get(want.date), day)
        substitute_before = row.substitute_teacher_id
    substitute = want.substitute_teacher_id
    if substitute is not None and substitute != substitute_before:
        checks.check_substitute(
            errors, (*at, "substituteTeacherSourcedId"), substitute=substitute, teacher_id=want.teacher_id, staff=staff
        )


async def _write(session: AsyncSession, actor: Actor, school_id: int, planned: list[_Planned]) -> list[Synced]:
    """The new lessons in one statement; the changed ones updated (executemany); one audit
    entry for the call, the families' notices grouped at commit."""
    actions = [Action.CREATED if p.row is None else Action.UPDATED if p.changes else Action.UNCHANGED for p in planned]
    rows = [{c: getattr(p.want, c) for c in _COLUMNS} for p in planned if p.row is None]
    changes: list[dict[str, object]] = []
    async with refusing_conflicts(session):
        made = {str(found[1]): int(found[0]) for found in await insert_returning(session, Lesson, rows, "external_id")}
        created = [Lesson(id=made[str(row["external_id"])], **row) for row in rows]  # what the notices read
        changes.extend({"lesson_id": lesson.id, "after": snapshot(lesson)} for lesson in created)
        record_notices.lessons_added(session, actor_user_id=actor.user_id, lessons=created)
        for p, action in zip(planned, actions, strict=True):
            if p.row is None or action is Action.UNCHANGED:
                continue
            before, was = snapshot(p.row), record_notices.LessonBefore.of(p.row)
            for name in _STATE:
                setattr(p.row, name, getattr(p.want, name))
            p.row.external_id = p.item.sourced_id
            after = snapshot(p.row)
            if after != before:  # not only its sourcedId given
                changes.append({"lesson_id": p.row.id, "before": before, "after": after})
                record_notices.lesson_changed(session, actor_user_id=actor.user_id, lesson=p.row, before=was)
        ids = iter(lesson.id for lesson in created)
        items = [
            Synced(p.index, p.item.sourced_id, action, next(ids) if p.row is None else p.row.id)
            for p, action in zip(planned, actions, strict=True)
        ]
        summarize(session, actor, school_id=school_id, action="syncLessons", items=items, changes=changes)
        # the school's change feed (services/changes.py): a sourcedId given to a lesson updates it too
        updated = [p.row.id for p, a in zip(planned, actions, strict=True) if p.row is not None and a is Action.UPDATED]
        made_ids = [lesson.id for lesson in created]
        for lesson_ids, change in ((made_ids, ChangeAction.CREATED), (updated, ChangeAction.UPDATED)):
            change_feed.record(session, school_id=school_id, type=ChangeType.LESSON, ids=lesson_ids, action=change)
    return items


# What an item sets of a lesson (its class, subject and teacher are checked to stay).
_STATE = (
    "date",
    "start_time",
    "end_time",
    "lesson_number",
    "room",
    "topic",
    "status",
    "substitute_teacher_id",
)


def _state(lesson: Lesson) -> tuple[object, ...]:
    return tuple(getattr(lesson, name) for name in _STATE)


_COLUMNS = (
    "school_id",
    "class_id",
    "subject_id",
    "teacher_id",
    "substitute_teacher_id",
    "date",
    "start_time",
    "end_time",
    "lesson_number",
    "room",
    "topic",
    "status",
    "external_id",
)


def _in_year(year: AcademicYear | None, day: dt.date) -> bool:
    return year is not None and year.starts_on <= day <= year.ends_on
