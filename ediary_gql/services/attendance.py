"""Attendance: a whole lesson marked in one call; guardians told of absences and lateness;
the day's live counts for a class."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ediary_gql.auth.actor import Actor
from ediary_gql.db import bulk
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import AttendanceStatus, IntegrationScope, LessonStatus, NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode, ErrorCollector, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import AttendanceChanged
from ediary_gql.services import audit, diary_facts
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.notifications import Notice, notify_many
from ediary_gql.services.school_time import has_started

REASON_MAX = 500
MINUTES_LATE_MAX = 300
NOTIFY_ON = frozenset({AttendanceStatus.ABSENT, AttendanceStatus.LATE})


@dataclass(frozen=True, slots=True)
class Mark:
    child_id: int
    status: AttendanceStatus
    minutes_late: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    class_id: int
    date: dt.date
    counts: dict[str, int]  # by status, plus "unmarked"
    lessons: int
    children: int


async def mark_attendance(
    session: AsyncSession, *, actor: Actor, lesson_id: int, marks: Sequence[Mark]
) -> tuple[Lesson, list[Attendance]]:
    """Upsert a mark per child; returns the lesson and all its marks. Children left
    out keep what they had. Guardians are notified when a child's status becomes
    ABSENT or LATE (not when an unchanged mark is saved again). Two reads (the lesson
    locked with all that is checked, then its marks) and the writes of `write_marks`."""
    lesson, context = await _lesson_to_mark(session, actor=actor, lesson_id=lesson_id, marks=marks)
    diary_facts.ensure_may_write(
        actor,
        school_id=context.school_class.school_id,
        assigned=actor.user_id == lesson.substitute_teacher_id or context.assigned,
        scope=IntegrationScope.ATTENDANCE_WRITE,
    )

    errors = ErrorCollector()
    problem = lesson_refusal(
        lesson,
        started=lesson.status == LessonStatus.SCHEDULED
        and has_started(context.timezone, lesson.date, lesson.start_time),
    )
    if problem is not None:
        errors.add("lessonId", ErrorCode.INVALID_STATE, problem)
    if not marks:
        errors.add("marks", ErrorCode.REQUIRED, "Отметьте хотя бы одного ученика")
    seen: set[int] = set()
    cleaned: list[Mark] = []
    for i, mark in enumerate(marks):
        path = ("marks", str(i))
        if mark.child_id in seen:
            errors.add((*path, "childId"), ErrorCode.DUPLICATE, "Ученик отмечен дважды")
        seen.add(mark.child_id)
        cleaned.append(check_mark(errors, mark, path, enrolled=mark.child_id in context.enrolled))
    errors.raise_if_any()

    # read after the lock: a marking of the lesson that committed meanwhile is seen
    existing = {
        row.child_id: row
        for row in await session.scalars(
            select(Attendance).where(Attendance.school_id == lesson.school_id, Attendance.lesson_id == lesson.id)
        )
    }
    written = await write_marks(
        session,
        actor,
        [(lesson, cleaned)],
        {(lesson.id, child_id): row for child_id, row in existing.items()},
        families=context.families,
        subject_names={lesson.subject_id: context.subject_name},
    )
    rows = existing | {row.child_id: row for row in written.rows}
    return lesson, [rows[child_id] for child_id in sorted(rows)]


@dataclass(frozen=True, slots=True)
class _LessonContext:
    school_class: SchoolClass
    timezone: str | None
    subject_name: str
    assigned: bool  # the actor teaches the lesson's class × subject
    enrolled: frozenset[int]  # of the marked children, those in the class on the lesson's date
    families: dict[int, list[tuple[User, Child]]]  # guardians of the children marked ABSENT or LATE


async def _lesson_to_mark(
    session: AsyncSession, *, actor: Actor, lesson_id: int, marks: Sequence[Mark]
) -> tuple[Lesson, _LessonContext]:
    """The lesson, locked (two markings of one lesson at once serialize instead of
    colliding on (child, lesson)), with its class, the school's zone, the subject's name,
    the actor's assignment, which marked children are enrolled and the guardians of those
    marked ABSENT or LATE: one statement, a row per (marked child, guardian)."""
    child_ids = {m.child_id for m in marks}
    told = {m.child_id for m in marks if m.status in NOTIFY_ON}
    parent = aliased(User)
    enrolled = (
        select(Enrollment.id)
        .where(
            Enrollment.child_id == Child.id,
            Enrollment.class_id == Lesson.class_id,
            *diary_facts.enrolled_on_column(Lesson.date),
        )
        .exists()
    )
    stmt = (
        select(
            Lesson,
            SchoolClass,
            School.timezone,
            Subject.name,
            diary_facts.assigned_to(actor.user_id, Lesson.class_id, Lesson.subject_id),
            Child,
            enrolled,
            parent,
        )
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .outerjoin(Child, Child.id.in_(child_ids))
        .outerjoin(Guardianship, and_(Guardianship.child_id == Child.id, Child.id.in_(told)))
        .outerjoin(parent, parent.id == Guardianship.parent_id)
        .where(Lesson.id == lesson_id)
        .with_for_update(of=Lesson)
    )
    found = await diary_facts.rows_in_writable_schools(
        session, stmt, Lesson.school_id, actor=actor, scope=IntegrationScope.ATTENDANCE_WRITE
    )
    if not found:
        raise not_found("lessonId", "Урок не найден")
    lesson, school_class, timezone, subject_name, assigned = found[0][:5]
    in_class: set[int] = set()
    families: dict[int, list[tuple[User, Child]]] = {}
    for *_, child, is_enrolled, guardian in found:
        if child is not None and is_enrolled:
            in_class.add(child.id)
        if child is not None and guardian is not None:
            families.setdefault(child.id, []).append((guardian, child))
    return lesson, _LessonContext(school_class, timezone, subject_name, bool(assigned), frozenset(in_class), families)


# The rules of a mark and its writing, shared with the bulk writes of services/sync.


def lesson_refusal(lesson: Lesson, *, started: bool) -> str | None:
    """Why attendance cannot be marked at the lesson (cancelled, or not begun by the
    school's clock: `started`), or None."""
    if lesson.status != LessonStatus.SCHEDULED:
        return "Урок отменён: посещаемость не отмечается"
    if not started:
        return (
            f"Урок ещё не начался ({lesson.date:%d.%m.%Y} в {lesson.start_time:%H:%M}): "
            "посещаемость отмечается с его начала"
        )
    return None


def check_mark(
    errors: ErrorCollector, mark: Mark, path: tuple[str, ...], *, enrolled: bool, child_field: str = "childId"
) -> Mark:
    """A mark's fields (`enrolled`: the child is in the lesson's class on its date); the
    mark tidied. Problems are reported under `path` (the child's field: `child_field`)."""
    if not enrolled:
        errors.add((*path, child_field), ErrorCode.NOT_FOUND, "Ученик не учится в классе в день урока")
    if mark.status == AttendanceStatus.LATE:
        if mark.minutes_late is None:
            errors.add((*path, "minutesLate"), ErrorCode.REQUIRED, "Укажите, на сколько минут опоздал ученик")
        elif not 1 <= mark.minutes_late <= MINUTES_LATE_MAX:
            errors.add((*path, "minutesLate"), ErrorCode.INVALID, f"Опоздание — от 1 до {MINUTES_LATE_MAX} минут")
    elif mark.minutes_late is not None:
        errors.add((*path, "minutesLate"), ErrorCode.INVALID, "Минуты опоздания указываются только для LATE")
    reason = (mark.reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        errors.add((*path, "reason"), ErrorCode.TOO_LONG, f"Причина — не длиннее {REASON_MAX} символов")
    return Mark(mark.child_id, mark.status, mark.minutes_late, reason)


def unchanged(row: Attendance, mark: Mark) -> bool:
    return (row.status, row.minutes_late, row.reason) == (mark.status, mark.minutes_late, mark.reason)


@dataclass(frozen=True, slots=True)
class Written:
    changes: list[tuple[Lesson, list[dict[str, object]]]]  # each changed lesson's changes
    rows: list[Attendance]  # the marks made or changed, as they are now


async def write_marks(
    session: AsyncSession,
    actor: Actor,
    batch: Sequence[tuple[Lesson, Sequence[Mark]]],
    existing: Mapping[tuple[int, int], Attendance],
    *,
    audited: bool = True,
    families: Mapping[int, Sequence[tuple[User, Child]]] | None = None,
    subject_names: Mapping[int, str] | None = None,
) -> Written:
    """Upsert checked marks of one or more lessons (`existing`: their current rows by
    (lesson id, child id), read under the lessons' locks). An unchanged mark keeps who
    marked it and when. Per lesson that changed: an audit entry (unless the caller writes
    its own: `audited`) and its events; guardians are told of a status that became ABSENT
    or LATE (`families`, `subject_names`: the guardians of those children and the
    lessons' subject names when the caller has read them already). One upsert for all
    the marks, then the audit entries, the notices and their deliveries: a fixed number of
    statements, whatever the marks and lessons."""
    now = utcnow()
    upserts: list[dict[str, object]] = []
    changed: list[tuple[Lesson, list[dict[str, object]]]] = []
    newly: list[tuple[Lesson, list[Mark]]] = []
    for lesson, marks in batch:
        changes: list[dict[str, object]] = []
        told: list[Mark] = []
        for mark in marks:
            row = existing.get((lesson.id, mark.child_id))
            previous = row.status if row is not None else None
            if row is not None and unchanged(row, mark):
                continue
            upserts.append(
                {
                    "school_id": lesson.school_id,
                    "child_id": mark.child_id,
                    "lesson_id": lesson.id,
                    "status": mark.status,
                    "minutes_late": mark.minutes_late,
                    "reason": mark.reason,
                    "marked_by_id": actor.user_id,
                    "marked_at": now,
                }
            )
            changes.append({"child_id": mark.child_id, "from": previous and str(previous), "to": str(mark.status)})
            if mark.status in NOTIFY_ON and previous != mark.status:
                told.append(mark)
        if changes:
            changed.append((lesson, changes))
        if told:
            newly.append((lesson, told))
    rows = await _upsert(session, upserts)
    _record_changes(session, batch, rows, existing)

    for lesson, changes in changed:
        if audited:
            audit.record(
                session,
                actor=actor,
                action="markAttendance",
                entity_type="Lesson",
                entity_id=lesson.id,
                after={"changes": changes},
                school_id=lesson.school_id,
            )
        for on_school in (False, True):
            queue_event(
                session,
                AttendanceChanged(
                    lesson_id=lesson.id,
                    class_id=lesson.class_id,
                    school_id=lesson.school_id,
                    date=lesson.date.isoformat(),
                    on_school=on_school,
                ),
            )
    if newly:
        await _notify_guardians(session, newly, families=families, subject_names=subject_names)
    return Written(changed, rows)


async def _upsert(session: AsyncSession, rows: list[dict[str, object]]) -> list[Attendance]:
    """One INSERT … ON CONFLICT (child, lesson) DO UPDATE for every mark to write; the
    rows as they are now (the session's own objects refreshed)."""
    if not rows:
        return []
    stmt = (await bulk.upsert(session, Attendance)).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Attendance.child_id, Attendance.lesson_id, Attendance.school_id],
        set_={name: stmt.excluded[name] for name in ("status", "minutes_late", "reason", "marked_by_id", "marked_at")},
    )
    found = await session.scalars(stmt.returning(Attendance), execution_options={"populate_existing": True})
    return list(found.all())


def _record_changes(
    session: AsyncSession,
    batch: Sequence[tuple[Lesson, Sequence[Mark]]],
    rows: Sequence[Attendance],
    existing: Mapping[tuple[int, int], Attendance],
) -> None:
    """The school's change feed: each mark made or changed."""
    schools = {lesson.id: lesson.school_id for lesson, _ in batch}
    by_action: dict[tuple[ChangeAction, int], list[int]] = {}
    for row in rows:
        action = ChangeAction.UPDATED if (row.lesson_id, row.child_id) in existing else ChangeAction.CREATED
        by_action.setdefault((action, schools[row.lesson_id]), []).append(row.id)
    for action in (ChangeAction.CREATED, ChangeAction.UPDATED):
        for (kind, school_id), ids in by_action.items():
            if kind == action:
                change_feed.record(
                    session, school_id=school_id, type=ChangeType.ATTENDANCE, ids=sorted(ids), action=action
                )


async def _notify_guardians(
    session: AsyncSession,
    batch: Sequence[tuple[Lesson, Sequence[Mark]]],
    *,
    families: Mapping[int, Sequence[tuple[User, Child]]] | None,
    subject_names: Mapping[int, str] | None,
) -> None:
    if families is None:
        families = await _families(session, {m.child_id for _, marks in batch for m in marks})
    subject_ids = {lesson.subject_id for lesson, _ in batch}
    subjects = dict(subject_names or {})
    if not subject_ids <= subjects.keys():
        subjects = dict(
            (await session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(subject_ids)))).all()
        )
    notices: list[Notice] = []
    for lesson, marks in batch:
        subject_name = subjects.get(lesson.subject_id) or "урок"
        when = f"{lesson.date:%d.%m.%Y} {lesson.start_time:%H:%M}"
        for mark in marks:
            for parent, child in families.get(mark.child_id, []):
                name = f"{child.first_name} {child.last_name}"
                if mark.status == AttendanceStatus.LATE:
                    title = f"{name} опоздал(а) на урок"
                    body = f"{subject_name}, {when}: опоздание на {mark.minutes_late} мин."
                else:
                    title = f"{name} отсутствует на уроке"
                    body = f"{subject_name}, {when}: отмечено отсутствие."
                if mark.reason:
                    body += f" Причина: {mark.reason}"
                notices.append(
                    Notice(
                        user=parent,
                        kind=NotificationKind.ATTENDANCE,
                        title=title,
                        body=body,
                        payload={
                            "child_id": mark.child_id,
                            "lesson_id": lesson.id,
                            "status": str(mark.status),
                            "minutes_late": mark.minutes_late,
                        },
                    )
                )
    # one INSERT for the entries and one for their deliveries, however many absences
    await notify_many(session, notices)


async def _families(session: AsyncSession, child_ids: set[int]) -> dict[int, list[tuple[User, Child]]]:
    """The guardians of each child, with the child."""
    rows = await session.execute(
        select(Guardianship.child_id, User, Child)
        .join(User, User.id == Guardianship.parent_id)
        .join(Child, Child.id == Guardianship.child_id)
        .where(Guardianship.child_id.in_(list(child_ids)))
    )
    families: dict[int, list[tuple[User, Child]]] = {}
    for child_id, parent, child in rows.all():
        families.setdefault(child_id, []).append((parent, child))
    return families


async def summary(session: AsyncSession, *, class_id: int, date: dt.date) -> Summary:
    """The day's counts for a class: marks by status over the day's scheduled lessons,
    and `unmarked` = (children enrolled × lessons) − marks. Three statements."""
    lessons = (
        await session.execute(
            select(Lesson.id, Lesson.school_id).where(
                Lesson.class_id == class_id, Lesson.date == date, Lesson.status == LessonStatus.SCHEDULED
            )
        )
    ).all()
    lesson_ids = [lesson_id for lesson_id, _ in lessons]
    children = await diary_facts.roster(session, class_id=class_id, date=date)
    counts: Counter[str] = Counter({str(s): 0 for s in AttendanceStatus})
    marked = 0
    if lesson_ids and children:
        rows = await session.execute(
            select(Attendance.status, func.count(Attendance.id))
            .where(
                Attendance.school_id == lessons[0].school_id,  # a class's lessons are of its school
                Attendance.lesson_id.in_(lesson_ids),
                Attendance.child_id.in_(list(children)),
            )
            .group_by(Attendance.status)
        )
        for status, count in rows.all():
            counts[str(status)] = int(count)
            marked += int(count)
    counts["unmarked"] = max(0, len(children) * len(lesson_ids) - marked)
    return Summary(class_id=class_id, date=date, counts=dict(counts), lessons=len(lesson_ids), children=len(children))


async def lesson_marks(session: AsyncSession, lesson: Lesson) -> list[tuple[int, Attendance]]:
    """The lesson's marks, from its school's partition."""
    rows = await session.scalars(
        select(Attendance)
        .where(Attendance.school_id == lesson.school_id, Attendance.lesson_id == lesson.id)
        .order_by(Attendance.child_id)
    )
    return [(row.lesson_id, row) for row in rows]
