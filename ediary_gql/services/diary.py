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

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    ScalarSelect,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.homework import Homework, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services.averages import SubjectAverage, averages, averages_of_class, children_of_class
from ediary_gql.services.current_period import children_current_periods

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


# The statements are built once, with bound parameters: building a statement per request,
# and rendering an IN list per execution, cost more than running them. Core tables, not
# ORM entities: the rows are read as tuples.
_lesson = Lesson.__table__
_subject = Subject.__table__
_user = User.__table__
_enrolment = Enrollment.__table__
_homework = Homework.__table__
_grade = Grade.__table__
_mark = Attendance.__table__
_done = HomeworkCompletion.__table__
_CHILD = bindparam("child", type_=Integer)
_START = bindparam("start", type_=Date)
_END = bindparam("end", type_=Date)


def _lessons_with_names() -> Select[Any]:
    return (
        select(
            *_lesson.c,
            _subject.c.name.label("subject_name"),
            _subject.c.short_name.label("subject_short_name"),
            _subject.c.external_id.label("subject_external_id"),
            _user.c.last_name.label("teacher_last_name"),
            _user.c.first_name.label("teacher_first_name"),
            _user.c.middle_name.label("teacher_middle_name"),
        )
        .join(_subject, _subject.c.id == _lesson.c.subject_id)
        .join(_user, _user.c.id == _lesson.c.teacher_id)
        .order_by(_lesson.c.date, _lesson.c.start_time, _lesson.c.id)
    )


def _lessons_of_child(subject: bool) -> ColumnElement[bool]:
    """The child's lessons in [start, end]: those of a class while the child was in it
    (the class list first, so the lessons are found through their class and date)."""
    classes = select(_enrolment.c.class_id).where(
        _enrolment.c.child_id == _CHILD,
        _enrolment.c.starts_on <= _END,
        or_(_enrolment.c.ends_on.is_(None), _enrolment.c.ends_on >= _START),
    )
    while_enrolled = exists().where(
        _enrolment.c.class_id == _lesson.c.class_id,
        _enrolment.c.child_id == _CHILD,
        _enrolment.c.starts_on <= _lesson.c.date,
        or_(_enrolment.c.ends_on.is_(None), _enrolment.c.ends_on >= _lesson.c.date),
    )
    where = and_(_lesson.c.class_id.in_(classes), _lesson.c.date.between(_START, _END), while_enrolled, _own_part())
    return and_(where, _lesson.c.subject_id == bindparam("subject", type_=Integer)) if subject else where


def _own_part() -> ColumnElement[bool]:
    """The part of the diary the reader may see (`policy.reads_whole_diary`): all of it
    for the family (`whole`), else only the lessons of schools the reader works at, so a
    school never reads what another school recorded before the child came to it (an
    integration with diary:read: its school's, `own_school`)."""
    staff = StaffMembership.__table__
    return or_(
        bindparam("whole", type_=Boolean),
        _lesson.c.school_id == bindparam("own_school", type_=Integer),
        _lesson.c.school_id.in_(
            select(staff.c.school_id).where(
                staff.c.user_id == bindparam("actor", type_=Integer),
                staff.c.active.is_(True),
                staff.c.role.in_([StaffRole.SCHOOL_ADMIN.value, StaffRole.TEACHER.value]),
            )
        ),
    )


def diary_params(
    actor: Actor, *, child_id: int, start: dt.date, end: dt.date, subject_id: int | None
) -> dict[str, Any]:
    """The parameters of the diary's statements (the objects' and the document's)."""
    return {
        "child": child_id,
        "actor": actor.user_id,
        "start": start,
        "end": end,
        "subject": subject_id,
        "whole": policy.reads_whole_diary(actor, child_id=child_id),
        "own_school": policy.diary_integration_school(actor),
    }


def _lessons_of_class() -> ColumnElement[bool]:
    """A class's lessons in a subject within [start, end]; of the class's school (the
    journal's facts): the partition key of lessons."""
    return and_(
        _lesson.c.school_id == bindparam("school", type_=Integer),
        _lesson.c.class_id == bindparam("class", type_=Integer),
        _lesson.c.subject_id == bindparam("subject", type_=Integer),
        _lesson.c.date.between(_START, _END),
    )


@dataclass(frozen=True, slots=True)
class _Reads:
    """The statements of one read: its lessons, then their homework, grades and attendance."""

    lessons: Select[Any]
    homework: Select[Any] | None
    grades: Select[Any]
    attendance: Select[Any]

    @classmethod
    def of(cls, lessons: ColumnElement[bool], *, child: bool) -> _Reads:
        ids = select(_lesson.c.id).where(lessons)
        grades: ColumnElement[bool] = _grade.c.lesson_id.in_(ids)
        # by the partition key too: each lesson's marks from its school's partition
        marks: ColumnElement[bool] = tuple_(_mark.c.school_id, _mark.c.lesson_id).in_(
            select(_lesson.c.school_id, _lesson.c.id).where(lessons)
        )
        homework = None
        if child:
            grades = and_(grades, _grade.c.child_id == _CHILD)
            marks = and_(marks, _mark.c.child_id == _CHILD)
            done = (
                exists().where(_done.c.homework_id == _homework.c.id, _done.c.child_id == _CHILD).correlate(_homework)
            )
            homework = (
                select(*_homework.c, done.label("is_done"))
                .where(_homework.c.lesson_id.in_(ids))
                .order_by(_homework.c.id)
            )
        return cls(
            lessons=_lessons_with_names().where(lessons),
            homework=homework,
            grades=select(*_grade.c)
            .where(grades, _grade.c.deleted_at.is_(None))
            .order_by(_grade.c.graded_on, _grade.c.id),
            attendance=select(*_mark.c).where(marks),
        )

    async def read(self, session: AsyncSession, params: dict[str, Any]) -> list[DiaryLesson]:
        lessons = [DiaryLesson(row=row) for row in (await session.execute(self.lessons, params)).all()]
        if not lessons:
            return lessons
        by_id = {lesson.id: lesson for lesson in lessons}
        if self.homework is not None:
            for row in (await session.execute(self.homework, params)).all():
                by_id[row.lesson_id].homework.append(DiaryHomework(row=row, is_done=bool(row.is_done)))
        for grade in (await session.execute(self.grades, params)).all():
            by_id[grade.lesson_id].grades.append(grade)
        for mark in (await session.execute(self.attendance, params)).all():
            by_id[mark.lesson_id].attendance.append(mark)
        return lessons


_DIARY = _Reads.of(_lessons_of_child(subject=False), child=True)
_DIARY_OF_SUBJECT = _Reads.of(_lessons_of_child(subject=True), child=True)
_JOURNAL = _Reads.of(_lessons_of_class(), child=False)

_ACTOR = bindparam("actor", type_=Integer)
_classes = SchoolClass.__table__
_assignments = TeachingAssignment.__table__
_period = (
    select(Period.__table__.c.academic_year_id, Period.__table__.c.starts_on, Period.__table__.c.ends_on)
    .where(Period.__table__.c.id == bindparam("period", type_=Integer))
    .subquery()
)
# the class's school and year, the subject's school, the period's year and dates, and
# whether the actor teaches the subject in the class
JOURNAL_FACTS = (
    select(
        _classes.c.school_id,
        _classes.c.academic_year_id,
        select(_subject.c.school_id).where(_subject.c.id == bindparam("subject", type_=Integer)).scalar_subquery(),
        _period.c.academic_year_id,
        _period.c.starts_on,
        _period.c.ends_on,
        exists().where(
            _assignments.c.class_id == _classes.c.id,
            _assignments.c.subject_id == bindparam("subject", type_=Integer),
            _assignments.c.teacher_id == _ACTOR,
        ),
    )
    .select_from(_classes)
    .outerjoin(_period, _period.c.academic_year_id.is_not(None))
    .where(_classes.c.id == bindparam("class", type_=Integer))
)
_JOURNAL_CHILDREN = (
    select(*Child.__table__.c)
    .where(Child.__table__.c.id.in_(children_of_class()))
    .order_by(
        Child.__table__.c.last_name, Child.__table__.c.first_name, Child.__table__.c.middle_name, Child.__table__.c.id
    )
)
# the child's enrolments, their schools, and whether the actor teaches (or is homeroom teacher of) that class
_ENROLMENTS = (
    select(
        _enrolment.c.class_id,
        _enrolment.c.starts_on,
        _enrolment.c.ends_on,
        SchoolClass.__table__.c.school_id,
        or_(
            SchoolClass.__table__.c.homeroom_teacher_id == _ACTOR,
            exists()
            .where(
                TeachingAssignment.__table__.c.class_id == _enrolment.c.class_id,
                TeachingAssignment.__table__.c.teacher_id == _ACTOR,
            )
            .correlate(_enrolment),
        ),
    )
    .join(SchoolClass.__table__, SchoolClass.__table__.c.id == _enrolment.c.class_id)
    .where(_enrolment.c.child_id == _CHILD)
)


def check_range(start: dt.date, end: dt.date) -> None:
    """The diary's range: `from` ≤ `to`, at most MAX_DIARY_DAYS days."""
    if end < start:
        raise DomainError(ErrorCode.INVALID, "Дата окончания раньше даты начала", field="to")
    if (end - start).days + 1 > MAX_DIARY_DAYS:
        raise DomainError(
            ErrorCode.INVALID, f"Дневник показывается не больше чем за {MAX_DIARY_DAYS} дней за раз", field="to"
        )


async def may_read_diary(session: AsyncSession, *, actor: Actor, params: dict[str, Any]) -> bool:
    """FORBIDDEN unless the actor may read the child's diary; False if the child was in
    no class in the range (nothing to read). One statement: the child's enrolments."""
    check_range(params["start"], params["end"])
    return diary_access(actor, params, (await session.execute(_ENROLMENTS, params)).all())


def diary_access(actor: Actor, params: dict[str, Any], enrolments: Sequence[Sequence[Any]]) -> bool:
    """The decision of `may_read_diary` over the child's enrolments as `_ENROLMENTS` reads
    them: (class, first day, last day or None, school, whether the actor teaches the class)."""
    start, end = params["start"], params["end"]
    in_range = [e for e in enrolments if e[1] <= end and (e[2] is None or e[2] >= start)]
    allowed = policy.can_read_diary(
        actor,
        child_id=params["child"],
        school_ids=frozenset(int(e[3]) for e in enrolments),
        teaches_class=any(bool(e[4]) for e in in_range),
    )
    if not allowed:
        raise forbidden("Нет доступа к дневнику этого ребёнка")
    return bool(in_range)


def enrolments_as_json() -> ScalarSelect[Any]:
    """`_ENROLMENTS` as the text of one JSON array of arrays (PostgreSQL), for a statement
    that reads the access facts beside what they guard; dates come as ISO strings."""
    rows = _ENROLMENTS.subquery("enrolment_facts")
    as_json = func.coalesce(func.json_agg(func.json_build_array(*rows.c)), literal_column("'[]'::json"))
    return select(cast(as_json, Text)).select_from(rows).scalar_subquery()


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
    params = diary_params(actor, child_id=child_id, start=start, end=end, subject_id=subject_id)
    if not await may_read_diary(session, actor=actor, params=params):
        return []
    # 2–5. lessons of the child's class(es) while enrolled, with subject and teacher names;
    # their homework with this child's done state, the child's grades and attendance
    lessons = await (_DIARY if subject_id is None else _DIARY_OF_SUBJECT).read(session, params)
    days: dict[dt.date, list[DiaryLesson]] = defaultdict(list)
    for lesson in lessons:
        days[lesson.row.date].append(lesson)
    return [DiaryDay(date=day, lessons=items) for day, items in days.items()]


async def journal_params(
    session: AsyncSession, *, actor: Actor, class_id: int, subject_id: int, period_id: int
) -> dict[str, Any]:
    """The journal's access check and ids (FORBIDDEN, NOT_FOUND naming the argument), and its
    statements' parameters: class, subject, the period's first and last days. One statement."""
    params = journal_keys(actor, class_id=class_id, subject_id=subject_id, period_id=period_id)
    return journal_access(actor, params, (await session.execute(JOURNAL_FACTS, params)).first())


def journal_keys(actor: Actor, *, class_id: int, subject_id: int, period_id: int) -> dict[str, Any]:
    """The parameters `JOURNAL_FACTS` is read with."""
    return {"class": class_id, "subject": subject_id, "period": period_id, "actor": actor.user_id}


def journal_access(actor: Actor, params: dict[str, Any], facts: Sequence[Any] | None) -> dict[str, Any]:
    """The decision of `journal_params` over the row `JOURNAL_FACTS` read (None: no such class)."""
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
    # the class's school: the subject's too (checked above), so its grades' partition key
    return params | {"start": starts_on, "end": ends_on, "school": school_id}


async def class_journal(
    session: AsyncSession, *, actor: Actor, class_id: int, subject_id: int, period_id: int
) -> ClassJournal:
    """The grid of a class × subject over a period: children, lessons, every grade
    and attendance mark at those lessons, and each child's averages in the subject."""
    params = await journal_params(session, actor=actor, class_id=class_id, subject_id=subject_id, period_id=period_id)
    starts_on, ends_on = params["start"], params["end"]
    children = list((await session.execute(_JOURNAL_CHILDREN, params)).all())
    lessons = await _JOURNAL.read(session, params)
    child_ids = [int(child.id) for child in children]
    found = await averages_of_class(
        session, class_id=class_id, subject_id=subject_id, starts_on=starts_on, ends_on=ends_on
    )
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
    session: AsyncSession, *, actor: Actor, keys: Sequence[tuple[int, int | None]], now: dt.datetime | None = None
) -> list[list[SubjectAverage] | DomainError]:
    """Averages per subject for (child id, period id) pairs, in the order asked: a
    FORBIDDEN or NOT_FOUND error in place of a pair the actor may not read. A None
    period is the current one of the child's school (services/current_period.py), and
    none there gives []. Three statements for any number of pairs with one period:
    periods (named ones; the current ones of the children's schools, if asked), access
    facts, averages."""
    child_ids = sorted({child for child, _ in keys})
    current = await children_current_periods(
        session, child_ids=sorted({child for child, p in keys if p is None}), now=now
    )
    period_ids = sorted({period for _, period in keys if period is not None})
    periods: dict[int, tuple[dt.date, dt.date]] = {}
    if period_ids:
        named = select(Period.id, Period.starts_on, Period.ends_on).where(Period.id.in_(period_ids))
        periods = {int(pid): (starts, ends) for pid, starts, ends in (await session.execute(named)).all()}
    periods.update({p.id: (p.starts_on, p.ends_on) for p in current.values() if p is not None})
    asked = [(child, pid if pid is not None else _period_id(current.get(child))) for child, pid in keys]
    readable = await readable_children(session, actor=actor, child_ids=child_ids)
    found: dict[int, dict[int, list[SubjectAverage]]] = {}
    for pid, (starts, ends) in periods.items():
        wanted = sorted({child for child, p in asked if p == pid and child in readable})
        if wanted:
            found[pid] = await averages(session, child_ids=wanted, starts_on=starts, ends_on=ends)
    result: list[list[SubjectAverage] | DomainError] = []
    for (child, named_id), (_, period_id) in zip(keys, asked, strict=True):
        if child not in readable:
            result.append(forbidden("Нет доступа к дневнику этого ребёнка"))
        elif period_id is None and named_id is None:
            result.append([])  # the school has no period yet
        elif period_id is None or period_id not in periods:
            result.append(DomainError(ErrorCode.NOT_FOUND, "Период не найден", field="periodId"))
        elif policy.reads_whole_diary(actor, child_id=child):
            result.append(found[period_id][child])
        else:  # staff: the subjects of their own schools only
            staff_schools = policy.diary_staff_schools(actor)
            result.append([a for a in found[period_id][child] if a.subject_school_id in staff_schools])
    return result


def _period_id(period: Period | None) -> int | None:
    return period.id if period is not None else None


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
