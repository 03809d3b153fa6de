"""Analytics: attendance and grade statistics of a school or a class.

A fixed number of statements whatever the school's size:

- attendanceStatistics: the class's access facts (for a class), one grouped statement for
  the groups and the total (GROUP BY over the marks joined to the lessons, labels joined in),
  one for the children missing more than the threshold;
- gradeStatistics: the access facts (class and period), one grouped statement for the
  distribution and the averages per subject (the averages by services/averages.py's SQL
  and formula, pooled over the class).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import AttendanceStatus, GradeKind, LessonStatus
from ediary_gql.db.models.grades import GRADE_VALUES, Grade
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import averages

MAX_DAYS = 366  # the longest span asked at once: a school year
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
MISSED = (AttendanceStatus.ABSENT, AttendanceStatus.SICK, AttendanceStatus.EXCUSED)
ATTENDANCE_REFUSED = "Статистику посещаемости видят администраторы школы и учителя своих классов"
GRADES_REFUSED = "Статистику оценок видят администраторы школы и учителя своих классов"


class GroupBy(enum.StrEnum):
    CLASS = "CLASS"
    DAY = "DAY"
    CHILD = "CHILD"
    SUBJECT = "SUBJECT"


@dataclass(frozen=True, slots=True)
class Counts:
    present: int = 0
    absent: int = 0
    late: int = 0
    excused: int = 0
    sick: int = 0
    marked: int = 0
    lessons: int = 0
    minutes_late: int = 0  # summed over the LATE marks

    @property
    def attendance_rate(self) -> float | None:
        """(present + late) / marked; None with nothing marked."""
        return None if not self.marked else (self.present + self.late) / self.marked


@dataclass(frozen=True, slots=True)
class AttendanceGroup:
    key: int | dt.date
    label: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class ChildAbsence:
    child_id: int
    full_name: str
    missed: int
    marked: int

    @property
    def share(self) -> float:
        return self.missed / self.marked


@dataclass(frozen=True, slots=True)
class AttendanceStatistics:
    group_by: GroupBy
    total: Counts
    groups: list[AttendanceGroup]
    missing_over: list[ChildAbsence]


@dataclass(frozen=True, slots=True)
class SubjectGrades:
    subject_id: int
    subject_name: str
    distribution: list[tuple[str, int]]  # every grade value, in GRADE_VALUES order
    count: int  # every regular live grade in the period, pass/fail included
    average: averages.SubjectAverage | None  # numeric grades only, as services/averages.py counts


@dataclass(frozen=True, slots=True)
class GradeStatistics:
    class_id: int
    period_id: int
    subjects: list[SubjectGrades]


# --- access ----------------------------------------------------------------------------

_ACTOR = bindparam("actor", type_=Integer)
_CLASS = bindparam("class", type_=Integer)
_CLASS_FACTS = select(
    SchoolClass.school_id,
    SchoolClass.academic_year_id,
    select(TeachingAssignment.id)
    .where(TeachingAssignment.class_id == SchoolClass.id, TeachingAssignment.teacher_id == _ACTOR)
    .exists(),
    select(Period.academic_year_id).where(Period.id == bindparam("period", type_=Integer)).scalar_subquery(),
    select(Period.starts_on).where(Period.id == bindparam("period", type_=Integer)).scalar_subquery(),
    select(Period.ends_on).where(Period.id == bindparam("period", type_=Integer)).scalar_subquery(),
).where(SchoolClass.id == _CLASS)


async def _class_facts(session: AsyncSession, actor: Actor, class_id: int, period_id: int | None) -> Sequence[Any]:
    """The class's school, year, whether the actor teaches in it, and the period's year and
    dates; FORBIDDEN alike for a class that does not exist (nothing tells it apart)."""
    params = {"class": class_id, "actor": actor.user_id, "period": period_id}
    row = (await session.execute(_CLASS_FACTS, params)).first()
    return row if row is not None else ()


# --- attendance ------------------------------------------------------------------------


def _count(status: AttendanceStatus) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((Attendance.status == status, 1), else_=0)), 0)


_COUNTS: tuple[ColumnElement[Any], ...] = (
    *(_count(status) for status in AttendanceStatus),
    func.count(Attendance.id),
    func.count(func.distinct(Lesson.id)),
    func.coalesce(func.sum(Attendance.minutes_late), 0),
)


def _in_scope(*, school: bool) -> ColumnElement[bool]:
    # a class's lessons are of its school: named too, for the partitions (db/partitioning.py)
    where = Lesson.school_id == bindparam("school", type_=Integer)
    if not school:
        where = where & (Lesson.class_id == _CLASS)
    return (
        where
        & Lesson.date.between(bindparam("start", type_=Date), bindparam("end", type_=Date))
        & (Lesson.status != LessonStatus.CANCELLED)
    )


# a lesson's marks, by the partition key too: PostgreSQL reads the lesson's school's
# partition of attendances only (db/partitioning.py)
_MARKS_OF_LESSON = (Attendance.school_id == Lesson.school_id) & (Attendance.lesson_id == Lesson.id)


def _grouped(group_by: GroupBy, *, school: bool) -> Select[Any]:
    """Per group: 0, the day (DAY), the key and up to three label parts, the counts by status,
    marked, lessons; then a total row (1 first). Lessons without marks count as lessons (an
    outer join); by child, only the lessons the child has marks at."""
    none: ColumnElement[Any] = null()
    marks = select().select_from(Lesson).outerjoin(Attendance, _MARKS_OF_LESSON)
    grouped_by: tuple[ColumnElement[Any], ...]
    if group_by is GroupBy.CLASS:
        marks = marks.join(SchoolClass, SchoolClass.id == Lesson.class_id)
        grouped_by = (Lesson.class_id, SchoolClass.level, SchoolClass.letter)  # type: ignore[assignment]
        columns = (none, *grouped_by, none)
    elif group_by is GroupBy.SUBJECT:
        marks = marks.join(Subject, Subject.id == Lesson.subject_id)
        grouped_by = (Lesson.subject_id, Subject.name)  # type: ignore[assignment]
        columns = (none, *grouped_by, none, none)
    elif group_by is GroupBy.CHILD:
        marks = marks.join(Child, Child.id == Attendance.child_id)
        grouped_by = (Attendance.child_id, Child.last_name, Child.first_name, Child.middle_name)  # type: ignore[assignment]
        columns = (none, *grouped_by)
    else:
        grouped_by = (Lesson.date,)  # type: ignore[assignment]
        columns = (Lesson.date, none, none, none, none)  # type: ignore[assignment]
    where = _in_scope(school=school)
    groups = marks.add_columns(literal_column("0"), *columns, *_COUNTS).where(where).group_by(*grouped_by)
    total = (
        select()
        .select_from(Lesson)
        .outerjoin(Attendance, _MARKS_OF_LESSON)
        .add_columns(literal_column("1"), none, none, none, none, none, *_COUNTS)
        .where(where)
    )
    return union_all(groups, total)  # type: ignore[return-value]


_GROUPED = {(g, school): _grouped(g, school=school) for g in GroupBy for school in (True, False)}


def _missing(*, school: bool) -> Select[Any]:
    missed = func.coalesce(func.sum(case((Attendance.status.in_(MISSED), 1), else_=0)), 0)
    marked = func.count(Attendance.id)
    return (
        select(Attendance.child_id, Child.last_name, Child.first_name, Child.middle_name, missed, marked)
        .select_from(Attendance)
        .join(Lesson, _MARKS_OF_LESSON)
        .join(Child, Child.id == Attendance.child_id)
        .where(_in_scope(school=school))
        .group_by(Attendance.child_id, Child.last_name, Child.first_name, Child.middle_name)
        .having(missed > bindparam("threshold", type_=Float) * marked)
    )


_MISSING = {school: _missing(school=school) for school in (True, False)}


def _full_name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _dates(errors: ErrorCollector, start: dt.date, end: dt.date) -> None:
    if end < start:
        errors.add("to", ErrorCode.INVALID, "Конец периода раньше его начала")
    elif (end - start).days + 1 > MAX_DAYS:
        errors.add("to", ErrorCode.INVALID, f"Не больше {MAX_DAYS} дней за один запрос")


async def attendance_statistics(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int | None,
    class_id: int | None,
    start: dt.date,
    end: dt.date,
    group_by: GroupBy,
    threshold: float,
) -> AttendanceStatistics:
    """Counts by status over the non-cancelled lessons of a school or class in [start, end],
    grouped, with the total, and the children whose missed share exceeds `threshold`."""
    errors = ErrorCollector()
    if (school_id is None) == (class_id is None):
        errors.add("schoolId" if school_id is None else "classId", ErrorCode.INVALID, "Укажите либо школу, либо класс")
    _dates(errors, start, end)
    if not 0 <= threshold <= 1:
        errors.add("threshold", ErrorCode.INVALID, "Порог — доля от 0 до 1")
    errors.raise_if_any()
    if class_id is not None:
        facts = await _class_facts(session, actor, class_id, None)
        if not facts or not policy.can_view_attendance_statistics(
            actor, school_id=facts[0], teaches_class=bool(facts[2])
        ):
            raise forbidden(ATTENDANCE_REFUSED)
        school_id = facts[0]
    else:
        assert school_id is not None  # noqa: S101 - one of the two, checked above
        if not policy.can_view_attendance_statistics(actor, school_id=school_id, teaches_class=None):
            raise forbidden(ATTENDANCE_REFUSED)
    total, groups = await attendance_counts(
        session, school_id=school_id, class_id=class_id, start=start, end=end, group_by=group_by
    )
    school = class_id is None
    params = {"school": school_id, "class": class_id, "start": start, "end": end, "threshold": threshold}
    missing = [
        ChildAbsence(child_id=int(child), full_name=_full_name(last, first, middle), missed=int(m), marked=int(n))
        for child, last, first, middle, m, n in (await session.execute(_MISSING[school], params)).all()
    ]
    missing.sort(key=lambda c: (-Fraction(c.missed, c.marked), c.full_name, c.child_id))
    return AttendanceStatistics(group_by=group_by, total=total, groups=groups, missing_over=missing)


async def attendance_counts(
    session: AsyncSession,
    *,
    school_id: int,
    class_id: int | None,
    start: dt.date,
    end: dt.date,
    group_by: GroupBy,
) -> tuple[Counts, list[AttendanceGroup]]:
    """The total and the groups of `attendance_statistics` (a class's of the school when
    `class_id` is given, else the school's), in one grouped statement. It asks no policy: the caller
    has (attendance_statistics, the reports' builder)."""
    school = class_id is None
    params = {"school": school_id, "class": class_id, "start": start, "end": end}
    groups: list[AttendanceGroup] = []
    total = Counts()
    for is_total, day, key, a, b, c, *numbers in (await session.execute(_GROUPED[(group_by, school)], params)).all():
        counts = _counts(numbers)
        if is_total:
            total = counts
        elif group_by is GroupBy.DAY:
            groups.append(AttendanceGroup(key=_as_date(day), label=_as_date(day).isoformat(), counts=counts))
        elif key is not None:  # by child: a lesson without marks belongs to no child
            label = {GroupBy.CLASS: f"{a}{b}", GroupBy.SUBJECT: str(a)}.get(group_by) or _full_name(a, b, c)
            groups.append(AttendanceGroup(key=int(key), label=label, counts=counts))
    if group_by is not GroupBy.DAY:  # days come in date order; the others by name
        groups.sort(key=lambda g: (g.label, g.key))
    else:
        groups.sort(key=lambda g: g.label)
    return total, groups


def _counts(numbers: Sequence[Any]) -> Counts:
    by_status = dict(zip(AttendanceStatus, (int(n or 0) for n in numbers), strict=False))
    marked, lessons, minutes_late = (int(n or 0) for n in numbers[len(AttendanceStatus) :])
    return Counts(
        present=by_status[AttendanceStatus.PRESENT],
        absent=by_status[AttendanceStatus.ABSENT],
        late=by_status[AttendanceStatus.LATE],
        excused=by_status[AttendanceStatus.EXCUSED],
        sick=by_status[AttendanceStatus.SICK],
        marked=marked,
        lessons=lessons,
        minutes_late=minutes_late,
    )


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- grades ----------------------------------------------------------------------------


def _grade_statement() -> Select[Any]:
    """Per subject × grade value: the count, beside the subject's pooled sums of
    services/averages.py (its own statement over the class's children, summed over them)."""
    grade = Grade.__table__.c
    in_class = grade.child_id.in_(averages.children_of_class())
    distribution = (
        select(grade.subject_id, grade.value, func.count(grade.id).label("n"))
        .where(
            in_class,
            grade.graded_on.between(bindparam("start", type_=Date), bindparam("end", type_=Date)),
            grade.deleted_at.is_(None),
            grade.kind == GradeKind.REGULAR,
        )
        .group_by(grade.subject_id, grade.value)
        .subquery("distribution")
    )
    per_child = averages.averages_query(in_class, subject=False).order_by(None).subquery("per_child")
    _, subject_id, *_names, sum_values, sum_weighted, sum_weights, count = per_child.c
    pooled = (
        select(
            subject_id.label("subject_id"),
            func.sum(sum_values).label("sum_values"),
            func.sum(sum_weighted).label("sum_weighted"),
            func.sum(sum_weights).label("sum_weights"),
            func.sum(count).label("count"),
        )
        .group_by(subject_id)
        .subquery("pooled")
    )
    subjects = Subject.__table__.c
    return (
        select(
            subjects.id,
            subjects.name,
            subjects.short_name,
            subjects.external_id,
            subjects.school_id,
            distribution.c.value,
            distribution.c.n,
            pooled.c.sum_values,
            pooled.c.sum_weighted,
            pooled.c.sum_weights,
            pooled.c.count,
        )
        .select_from(distribution)
        .join(Subject.__table__, subjects.id == distribution.c.subject_id)
        .outerjoin(pooled, pooled.c.subject_id == distribution.c.subject_id)
        .order_by(subjects.name, subjects.id)
    )


_GRADES = _grade_statement()


async def grade_statistics(session: AsyncSession, *, actor: Actor, class_id: int, period_id: int) -> GradeStatistics:
    """Per subject with grades in the period: how many of each value, and the averages of
    the class's children's numeric grades pooled (as services/averages.py computes them)."""
    facts = await _class_facts(session, actor, class_id, period_id)
    if not facts or not policy.can_view_grade_statistics(actor, school_id=facts[0], teaches_class=bool(facts[2])):
        raise forbidden(GRADES_REFUSED)
    _, year_id, _, period_year_id, starts_on, ends_on = facts
    if period_year_id is None or period_year_id != year_id:
        raise DomainError(ErrorCode.NOT_FOUND, "Период не найден в учебном году класса", field="periodId")
    params = {"class": class_id, "start": starts_on, "end": ends_on}
    found: dict[int, dict[str, Any]] = {}
    for subject, name, short, external, school, value, n, s_values, s_weighted, s_weights, n_avg in (
        await session.execute(_GRADES, params)
    ).all():
        item = found.setdefault(int(subject), {"name": name, "values": {}, "average": None})
        item["values"][value] = int(n)
        if n_avg is not None and item["average"] is None:
            # the pooled sums through services/averages.py's own formula and rounding
            row = (class_id, subject, name, short, external, school, s_values, s_weighted, s_weights, n_avg)
            item["average"] = averages.collect_averages([row], {})[class_id][0]
    return GradeStatistics(
        class_id=class_id,
        period_id=period_id,
        subjects=[
            SubjectGrades(
                subject_id=subject,
                subject_name=item["name"],
                distribution=[(v, item["values"].get(v, 0)) for v in GRADE_VALUES],
                count=sum(item["values"].values()),
                average=item["average"],
            )
            for subject, item in found.items()
        ],
    )
