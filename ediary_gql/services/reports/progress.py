"""A progress report's sections: per subject the averages (services/averages.py) and final
grades, then the grades themselves as the template lays them out. A child's and a
class's reports list grades; a school's holds one row per class × subject, no more."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import GradeKind, ReportColumn, ReportGrouping
from ediary_gql.db.models.grades import ControlType, Grade
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.reports.document import Cell, Column, ColumnKind, Section
from ediary_gql.services import averages
from ediary_gql.services.averages import SubjectAverage
from ediary_gql.services.reports import headings as h
from ediary_gql.services.reports.visibility import SCHOOL_CLASSES, Frame, Pupil

C = ReportColumn
_grade = Grade.__table__
_subject = Subject.__table__
_teacher = User.__table__.alias("teacher")
_lesson = Lesson.__table__
_control = ControlType.__table__
_period = Period.__table__
_CHILD = _grade.c.child_id == bindparam("child")
_CHILDREN = _grade.c.child_id.in_(bindparam("children", expanding=True))
_IN_SCHOOL = _grade.c.class_id.in_(SCHOOL_CLASSES)

SUMMARY_COLUMNS = (
    Column("subject", "Предмет"),
    Column("count", "Оценок", ColumnKind.INTEGER),
    Column("average", "Средний балл", ColumnKind.DECIMAL),
    Column("weighted", "Средневзвешенный балл", ColumnKind.DECIMAL),
    Column("final", "Итоговая оценка"),
)


def _grades(children: ColumnElement[bool]) -> Select[Any]:
    """The live regular grades of the children at the school's classes, dated in [start, end]."""
    return (
        select(
            _grade.c.id,
            _grade.c.child_id,
            _grade.c.class_id,
            _grade.c.subject_id,
            _subject.c.name,
            _grade.c.graded_on,
            _lesson.c.start_time,
            _grade.c.value,
            _grade.c.weight,
            _grade.c.comment,
            _control.c.name,
            _teacher.c.last_name,
            _teacher.c.first_name,
            _teacher.c.middle_name,
            _lesson.c.topic,
        )
        .select_from(_grade)
        .join(_subject, _subject.c.id == _grade.c.subject_id)
        .join(_teacher, _teacher.c.id == _grade.c.teacher_id)
        .outerjoin(_control, _control.c.id == _grade.c.control_type_id)
        .outerjoin(_lesson, _lesson.c.id == _grade.c.lesson_id)
        .where(
            children,
            _IN_SCHOOL,
            _grade.c.graded_on.between(bindparam("start"), bindparam("end")),
            _grade.c.deleted_at.is_(None),
            _grade.c.kind == GradeKind.REGULAR,
        )
    )


def _finals(children: ColumnElement[bool]) -> Select[Any]:
    """The live final grades of the periods lying within [start, end], in period order."""
    return (
        select(_grade.c.child_id, _grade.c.class_id, _grade.c.subject_id, _subject.c.name, _grade.c.value)
        .join(_subject, _subject.c.id == _grade.c.subject_id)
        .join(_period, _period.c.id == _grade.c.period_id)
        .where(
            children,
            _IN_SCHOOL,
            _grade.c.kind == GradeKind.PERIOD_FINAL,
            _grade.c.deleted_at.is_(None),
            _period.c.starts_on >= bindparam("start"),
            _period.c.ends_on <= bindparam("end"),
        )
        .order_by(_period.c.starts_on, _grade.c.id)
    )


_CHILD_GRADES, _CLASS_GRADES = _grades(_CHILD), _grades(_CHILDREN)
_CHILD_FINALS, _CLASS_FINALS = _finals(_CHILD), _finals(_CHILDREN)
_CLASSES = (
    select(SchoolClass.id, SchoolClass.level, SchoolClass.letter)
    .where(SchoolClass.school_id == bindparam("school"))
    .order_by(SchoolClass.level, SchoolClass.letter, SchoolClass.id)
)


@dataclass(frozen=True, slots=True)
class _Grade:
    child_id: int
    subject_id: int
    subject: str
    order: tuple[dt.date, dt.time, int]
    values: dict[ReportColumn, Cell]
    comment: str | None


@dataclass(slots=True)
class _Child:
    """What a child's part of the report holds, as the requester may see it."""

    grades: list[_Grade]
    subjects: dict[int, str]  # every subject with a grade, a final or an average
    averages: dict[int, SubjectAverage]
    finals: dict[int, list[str]]


async def _read(session: AsyncSession, frame: Frame, pupils: Sequence[Pupil], *, one: bool) -> dict[int, _Child]:
    """Per child: their visible grades, averages and finals (three statements for any number)."""
    viewer = frame.viewer
    found = {p.id: _Child(grades=[], subjects={}, averages={}, finals={}) for p in pupils}
    if not pupils:
        return found
    classes = {p.id: p.class_ids for p in pupils}
    params = frame.params(child=pupils[0].id, children=[p.id for p in pupils])
    for row in (await session.execute(_CHILD_GRADES if one else _CLASS_GRADES, params)).all():
        (gid, child, class_id, subject, name, day, start, value, weight, comment, control, *teacher, topic) = row
        if not viewer.sees_grade(child, class_id, subject):
            continue
        values: dict[ReportColumn, Cell] = {
            C.DATE: day,
            C.SUBJECT: name,
            C.GRADE: h.mark(value),
            C.CONTROL_TYPE: control,
            C.WEIGHT: Decimal(weight),
            C.TEACHER: h.full_name(*teacher),
            C.TOPIC: topic,
        }
        found[child].grades.append(_Grade(child, subject, name, (day, start or dt.time.min, gid), values, comment))
        found[child].subjects[subject] = name
    for child, class_id, subject, name, value in (
        await session.execute(_CHILD_FINALS if one else _CLASS_FINALS, params)
    ).all():
        if viewer.sees_grade(child, class_id, subject):
            found[child].finals.setdefault(subject, []).append(value)
            found[child].subjects[subject] = name
    got = await averages.averages(
        session, child_ids=[p.id for p in pupils], starts_on=frame.date_from, ends_on=frame.date_to
    )
    for child, items in got.items():
        for item in items:
            if item.subject_school_id == frame.school_id and viewer.sees_subject(
                child, item.subject_id, classes[child]
            ):
                found[child].averages[item.subject_id] = item
                found[child].subjects[item.subject_id] = item.subject_name
    return found


def _final(values: list[str] | None) -> Cell:
    if not values:
        return None
    if len(values) == 1:
        return h.mark(values[0])
    return "; ".join(str(h.mark(v)) for v in values)


def _summary_row(part: _Child, subject: int) -> tuple[Cell, ...]:
    avg = part.averages.get(subject)
    return (
        part.subjects[subject],
        avg.count if avg else None,
        avg.average if avg else None,
        avg.weighted_average if avg else None,
        _final(part.finals.get(subject)),
    )


def _by_name(subjects: dict[int, str]) -> list[int]:
    return sorted(subjects, key=lambda s: (subjects[s], s))


def _grade_sections(frame: Frame, grades: Iterable[_Grade], names: dict[int, str] | None) -> list[Section]:
    """The grades as the template lays them out: a table per subject, or one by date;
    with `names` (a class's report), each row led by the child's name."""
    spec = frame.spec
    per_subject = spec.group_by is ReportGrouping.SUBJECT
    columns = h.lesson_columns(spec, per_subject=per_subject)
    if names is not None:
        columns = h.with_child(columns)

    def row(g: _Grade) -> tuple[Cell, ...]:
        cells = h.pick(spec, per_subject=per_subject, values=g.values, comment=g.comment)
        return (names[g.child_id], *cells) if names is not None else cells

    child_order = {child: n for n, child in enumerate(names or {})}
    if not per_subject:
        ordered = sorted(grades, key=lambda g: (g.order[:2], child_order.get(g.child_id, 0), g.order[2]))
        return [Section(h.GRADES, columns, tuple(row(g) for g in ordered), note=None if ordered else h.NOTHING)]
    by_subject: dict[int, list[_Grade]] = defaultdict(list)
    for g in grades:
        by_subject[g.subject_id].append(g)
    subjects = {s: items[0].subject for s, items in by_subject.items()}
    return [
        Section(
            subjects[s],
            columns,
            tuple(row(g) for g in sorted(by_subject[s], key=lambda g: (child_order.get(g.child_id, 0), g.order))),
        )
        for s in _by_name(subjects)
    ]


async def child_sections(session: AsyncSession, frame: Frame, pupil: Pupil) -> list[Section]:
    """A child's summary per subject, then their grades."""
    part = (await _read(session, frame, [pupil], one=True))[pupil.id]
    rows = tuple(_summary_row(part, s) for s in _by_name(part.subjects))
    summary = Section(h.SUBJECTS_SUMMARY, SUMMARY_COLUMNS, rows, note=None if rows else h.NOTHING)
    return [summary, *_grade_sections(frame, part.grades, None)]


async def class_sections(session: AsyncSession, frame: Frame, pupils: Sequence[Pupil]) -> list[Section]:
    """A summary per child × subject, then the class's grades."""
    parts = await _read(session, frame, pupils, one=False)
    rows = tuple(
        (pupil.name, *_summary_row(parts[pupil.id], s)) for pupil in pupils for s in _by_name(parts[pupil.id].subjects)
    )
    summary = Section(h.CHILDREN_SUMMARY, h.with_child(SUMMARY_COLUMNS), rows, note=None if rows else h.NOTHING)
    grades = [g for pupil in pupils for g in parts[pupil.id].grades]
    return [summary, *_grade_sections(frame, grades, {p.id: p.name for p in pupils})]


SCHOOL_COLUMNS = (Column("class", "Класс"), *SUMMARY_COLUMNS[:4])


async def school_sections(session: AsyncSession, frame: Frame) -> list[Section]:
    """Per class × subject: the averages of the grades given in the class (two statements)."""
    classes = (await session.execute(_CLASSES, frame.params())).all()
    found = await averages.averages_of_school_classes(
        session, school_id=frame.school_id, starts_on=frame.date_from, ends_on=frame.date_to
    )
    rows = tuple(
        (f"{level}{letter}", a.subject_name, a.count, a.average, a.weighted_average)
        for class_id, level, letter in classes
        for a in found.get(int(class_id), [])
        if frame.viewer.sees_class_subject(int(class_id), a.subject_id)
    )
    return [Section(h.CLASSES_SUMMARY, SCHOOL_COLUMNS, rows, note=None if rows else h.NOTHING)]
