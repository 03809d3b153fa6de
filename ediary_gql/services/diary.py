"""Diary reads: a child's diary over a date range and a teacher's class journal.

Both are built set-based, with a fixed number of statements whatever the
range or the class size: the access facts, the lessons (with subject and
teacher names joined in), then homework, grades and attendance for all those
lessons at once. Rows come back as plain tuples turned into small frozen
dataclasses: no ORM object is made per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.homework import Homework, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services.averages import SubjectAverage, averages

MAX_DIARY_DAYS = 31


@dataclass(frozen=True, slots=True)
class DiaryHomework:
    row: Any  # a homeworks row
    is_done: bool


@dataclass(frozen=True, slots=True)
class DiaryLesson:
    """A lessons row with `subject_name`, `subject_short_name`, `subject_external_id`
    and the teacher's `teacher_last_name`, `teacher_first_name`, `teacher_middle_name`."""

    row: Any
    homework: list[DiaryHomework] = field(default_factory=list)
    grades: list[Any] = field(default_factory=list)  # grades rows
    attendance: list[Any] = field(default_factory=list)  # attendances rows (at most one per child)

    @property
    def id(self) -> int:
        return int(self.row.id)


@dataclass(frozen=True, slots=True)
class DiaryDay:
    date: dt.date
    lessons: list[DiaryLesson]


@dataclass(frozen=True, slots=True)
class ClassJournal:
    class_id: int
    subject_id: int
    period_id: int
    children: list[Any]  # children rows
    lessons: list[DiaryLesson]
    averages: dict[int, SubjectAverage | None]


def _lessons_query() -> Select[Any]:
    return (
        select(
            *Lesson.__table__.c,
            Subject.name.label("subject_name"),
            Subject.short_name.label("subject_short_name"),
            Subject.external_id.label("subject_external_id"),
            User.last_name.label("teacher_last_name"),
            User.first_name.label("teacher_first_name"),
            User.middle_name.label("teacher_middle_name"),
        )
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
        .order_by(Lesson.date, Lesson.start_time)
    )


async def _grades(session: AsyncSession, lesson_ids: list[int], child_id: int | None) -> Sequence[Any]:
    query = (
        select(*Grade.__table__.c)
        .where(Grade.lesson_id.in_(lesson_ids), Grade.deleted_at.is_(None))
        .order_by(Grade.graded_on, Grade.id)
    )
    if child_id is not None:
        query = query.where(Grade.child_id == child_id)
    return (await session.execute(query)).all()


async def _attendance(session: AsyncSession, lesson_ids: list[int], child_id: int | None) -> Sequence[Any]:
    query = select(*Attendance.__table__.c).where(Attendance.lesson_id.in_(lesson_ids))
    if child_id is not None:
        query = query.where(Attendance.child_id == child_id)
    return (await session.execute(query)).all()


async def _attach(
    session: AsyncSession, lessons: list[DiaryLesson], child_id: int | None, *, homework_for: int | None
) -> None:
    """Fill in the lessons' grades and attendance (of `child_id`, or everyone's) and,
    with `homework_for`, their homework with that child's done state."""
    by_id = {lesson.id: lesson for lesson in lessons}
    ids = list(by_id)
    if not ids:
        return
    if homework_for is not None:
        done = (
            exists()
            .where(HomeworkCompletion.homework_id == Homework.id, HomeworkCompletion.child_id == homework_for)
            .correlate(Homework)
        )
        homework = await session.execute(
            select(*Homework.__table__.c, done.label("is_done"))
            .where(Homework.lesson_id.in_(ids))
            .order_by(Homework.id)
        )
        for row in homework.all():
            by_id[row.lesson_id].homework.append(DiaryHomework(row=row, is_done=bool(row.is_done)))
    for grade in await _grades(session, ids, child_id):
        by_id[grade.lesson_id].grades.append(grade)
    for mark in await _attendance(session, ids, child_id):
        by_id[mark.lesson_id].attendance.append(mark)


def check_range(start: dt.date, end: dt.date) -> None:
    """The diary's range: `from` ≤ `to`, at most MAX_DIARY_DAYS days."""
    if end < start:
        raise DomainError(ErrorCode.INVALID, "Дата окончания раньше даты начала", field="to")
    if (end - start).days + 1 > MAX_DIARY_DAYS:
        raise DomainError(
            ErrorCode.INVALID, f"Дневник показывается не больше чем за {MAX_DIARY_DAYS} дней за раз", field="to"
        )


async def diary(
    session: AsyncSession,
    *,
    actor: Actor,
    child_id: int,
    start: dt.date,
    end: dt.date,
    subject_id: int | None = None,
) -> list[DiaryDay]:
    """The child's diary, day by day (days with lessons only), in lesson order."""
    check_range(start, end)
    # 1. access facts: the child's enrolments, their schools, and whether the actor teaches there
    teaches = (
        exists()
        .where(TeachingAssignment.class_id == Enrollment.class_id, TeachingAssignment.teacher_id == actor.user_id)
        .correlate(Enrollment)
    )
    enrolments = (
        await session.execute(
            select(
                Enrollment.class_id,
                Enrollment.starts_on,
                Enrollment.ends_on,
                SchoolClass.school_id,
                or_(SchoolClass.homeroom_teacher_id == actor.user_id, teaches),
            )
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(Enrollment.child_id == child_id)
        )
    ).all()
    in_range = [e for e in enrolments if e[1] <= end and (e[2] is None or e[2] >= start)]
    allowed = policy.can_read_diary(
        actor,
        child_id=child_id,
        school_ids=frozenset(int(e[3]) for e in enrolments),
        teaches_class=any(bool(e[4]) for e in in_range),
    )
    if not allowed:
        raise forbidden("Нет доступа к дневнику этого ребёнка")
    if not in_range:
        return []
    # 2. lessons of the child's class(es) while enrolled, with subject and teacher names
    windows = [
        and_(Lesson.class_id == cls, Lesson.date >= max(start, starts), Lesson.date <= min(end, ends or end))
        for cls, starts, ends, _, _ in in_range
    ]
    query = _lessons_query().where(or_(*windows))
    if subject_id is not None:
        query = query.where(Lesson.subject_id == subject_id)
    lessons = [DiaryLesson(row=row) for row in (await session.execute(query)).all()]
    # 3–5. homework with this child's done state, the child's grades and attendance
    await _attach(session, lessons, child_id, homework_for=child_id)
    days: dict[dt.date, list[DiaryLesson]] = defaultdict(list)
    for lesson in lessons:
        days[lesson.row.date].append(lesson)
    return [DiaryDay(date=day, lessons=items) for day, items in days.items()]


async def class_journal(
    session: AsyncSession, *, actor: Actor, class_id: int, subject_id: int, period_id: int
) -> ClassJournal:
    """The grid of a class × subject over a period: children, lessons, every grade
    and attendance mark at those lessons, and each child's averages in the subject."""
    assigned = exists().where(
        TeachingAssignment.class_id == class_id,
        TeachingAssignment.subject_id == subject_id,
        TeachingAssignment.teacher_id == actor.user_id,
    )
    subject_school = select(Subject.school_id).where(Subject.id == subject_id).scalar_subquery()
    period = select(Period.academic_year_id, Period.starts_on, Period.ends_on).where(Period.id == period_id).subquery()
    facts = (
        await session.execute(
            select(
                SchoolClass.school_id,
                SchoolClass.academic_year_id,
                subject_school,
                period.c.academic_year_id,
                period.c.starts_on,
                period.c.ends_on,
                assigned,
            )
            .select_from(SchoolClass)
            .outerjoin(period, period.c.academic_year_id.is_not(None))
            .where(SchoolClass.id == class_id)
        )
    ).first()
    if facts is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Класс не найден", field="classId")
    school_id, year_id, subject_school_id, period_year_id, starts_on, ends_on, is_assigned = facts
    if not policy.can_read_class_journal(actor, school_id=school_id, assigned=bool(is_assigned)):
        raise forbidden("Журнал класса доступен учителю этого предмета в классе и администраторам школы")
    errors = ErrorCollector()
    if subject_school_id != school_id:
        errors.add("subjectId", ErrorCode.NOT_FOUND, "Предмет не найден в этой школе")
    if period_year_id != year_id:
        errors.add("periodId", ErrorCode.NOT_FOUND, "Период не найден в учебном году класса")
    errors.raise_if_any()
    children = list(
        (
            await session.execute(
                select(*Child.__table__.c)
                .where(
                    Child.id.in_(
                        select(Enrollment.child_id).where(
                            Enrollment.class_id == class_id,
                            Enrollment.starts_on <= ends_on,
                            or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= starts_on),
                        )
                    )
                )
                .order_by(Child.last_name, Child.first_name, Child.middle_name, Child.id)
            )
        ).all()
    )
    query = _lessons_query().where(
        Lesson.class_id == class_id,
        Lesson.subject_id == subject_id,
        Lesson.date.between(starts_on, ends_on),
    )
    lessons = [DiaryLesson(row=row) for row in (await session.execute(query)).all()]
    await _attach(session, lessons, None, homework_for=None)
    child_ids = [int(child.id) for child in children]
    found = await averages(session, child_ids=child_ids, starts_on=starts_on, ends_on=ends_on, subject_id=subject_id)
    return ClassJournal(
        class_id=class_id,
        subject_id=subject_id,
        period_id=period_id,
        children=children,
        lessons=lessons,
        averages={child: next(iter(found.get(child) or []), None) for child in child_ids},
    )


async def my_children(session: AsyncSession, *, actor: Actor) -> list[int]:
    """Ids of the actor's wards (a guardian) or the student's own record, by name."""
    query = (
        select(Child.id)
        .where(
            or_(
                Child.id.in_(select(Guardianship.child_id).where(Guardianship.parent_id == actor.user_id)),
                Child.user_id == actor.user_id,
            )
        )
        .order_by(Child.last_name, Child.first_name, Child.id)
    )
    return [int(i) for i in (await session.scalars(query)).all()]


async def averages_for(
    session: AsyncSession, *, actor: Actor, keys: Sequence[tuple[int, int]]
) -> list[list[SubjectAverage] | DomainError]:
    """Averages per subject for (child id, period id) pairs, in the order asked: a
    FORBIDDEN or NOT_FOUND error in place of a pair the actor may not read. Three
    statements for any number of pairs with one period: periods, access facts, averages."""
    child_ids = sorted({child for child, _ in keys})
    period_ids = sorted({period for _, period in keys})
    periods = {
        int(pid): (starts, ends)
        for pid, starts, ends in (
            await session.execute(select(Period.id, Period.starts_on, Period.ends_on).where(Period.id.in_(period_ids)))
        ).all()
    }
    readable = await readable_children(session, actor=actor, child_ids=child_ids)
    found: dict[int, dict[int, list[SubjectAverage]]] = {}
    for pid, (starts, ends) in periods.items():
        wanted = sorted({child for child, p in keys if p == pid and child in readable})
        if wanted:
            found[pid] = await averages(session, child_ids=wanted, starts_on=starts, ends_on=ends)
    result: list[list[SubjectAverage] | DomainError] = []
    for child, pid in keys:
        if child not in readable:
            result.append(forbidden("Нет доступа к дневнику этого ребёнка"))
        elif pid not in periods:
            result.append(DomainError(ErrorCode.NOT_FOUND, "Период не найден", field="periodId"))
        else:
            result.append(found[pid][child])
    return result


async def readable_children(session: AsyncSession, *, actor: Actor, child_ids: Sequence[int]) -> frozenset[int]:
    """Which of these children's diaries the actor may read (one statement at most)."""
    own = {c for c in child_ids if actor.is_system or c in actor.guardian_of or c == actor.student_child_id}
    rest = [c for c in child_ids if c not in own]
    if not rest or not actor.memberships:
        return frozenset(own)
    teaches = (
        exists()
        .where(TeachingAssignment.class_id == Enrollment.class_id, TeachingAssignment.teacher_id == actor.user_id)
        .correlate(Enrollment)
    )
    facts: dict[int, tuple[set[int], bool]] = {c: (set(), False) for c in rest}
    rows = await session.execute(
        select(
            Enrollment.child_id,
            SchoolClass.school_id,
            or_(SchoolClass.homeroom_teacher_id == actor.user_id, teaches),
        )
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.child_id.in_(rest))
    )
    for child, school, teaches_it in rows.all():
        schools, teaching = facts[int(child)]
        schools.add(int(school))
        facts[int(child)] = (schools, teaching or bool(teaches_it))
    for child, (schools, teaching) in facts.items():
        if policy.can_read_diary(actor, child_id=child, school_ids=frozenset(schools), teaches_class=teaching):
            own.add(child)
    return frozenset(own)
