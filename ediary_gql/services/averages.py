"""Averages of grades per child (or class) and subject over a period: plain and weighted.

One GROUP BY statement for any number of children. Only live (not deleted)
regular grades with a numeric value count; pass/fail marks and final grades
do not. A grade belongs to the period its date falls in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, Select, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import GradeKind
from ediary_gql.db.models.grades import Grade

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SubjectAverage:
    child_id: int
    subject_id: int
    subject_name: str
    subject_short_name: str | None
    subject_external_id: str | None
    subject_school_id: int
    average: Decimal
    weighted_average: Decimal
    count: int


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def averages_query(children: ColumnElement[bool], *, subject: bool, per_class: bool = False) -> Select[Any]:
    """Per child and subject: sum, weighted sum, weights and count of the counted grades
    of the children `children` selects, dated in [start, end] (and of :subject). With
    `per_class`, per class the grades were given in instead of per child."""
    grade = Grade.__table__.c
    key = grade.class_id if per_class else grade.child_id
    subjects = Subject.__table__.c
    # weights have two decimals: summing them ×100 as integers keeps the arithmetic exact
    # on both backends (SQLite would sum NUMERIC as floats)
    weight_cents = cast(func.round(grade.weight * 100), Integer)
    names = (subjects.name, subjects.short_name, subjects.external_id, subjects.school_id)
    query = (
        select(
            key,
            grade.subject_id,
            *names,
            func.sum(grade.numeric_value),
            func.sum(grade.numeric_value * weight_cents),
            func.sum(weight_cents),
            func.count(grade.id),
        )
        .join(Subject.__table__, subjects.id == grade.subject_id)
        .where(
            children,
            grade.graded_on.between(bindparam("start", type_=Date), bindparam("end", type_=Date)),
            grade.deleted_at.is_(None),
            grade.kind == GradeKind.REGULAR,
            grade.numeric_value.is_not(None),
        )
        .group_by(
            key,
            grade.subject_id,
            subjects.name,
            subjects.short_name,
            subjects.external_id,
            subjects.school_id,
        )
        .order_by(key, subjects.name)
    )
    return query.where(grade.subject_id == bindparam("subject", type_=Integer)) if subject else query


def children_of_class() -> Select[Any]:
    """Ids of the children enrolled in :class at some time in [start, end]."""
    enrolment = Enrollment.__table__.c
    return select(enrolment.child_id).where(
        enrolment.class_id == bindparam("class", type_=Integer),
        enrolment.starts_on <= bindparam("end", type_=Date),
        or_(enrolment.ends_on.is_(None), enrolment.ends_on >= bindparam("start", type_=Date)),
    )


_OF_CLASS = averages_query(Grade.__table__.c.child_id.in_(children_of_class()), subject=True)


async def averages(
    session: AsyncSession,
    *,
    child_ids: Sequence[int],
    starts_on: dt.date,
    ends_on: dt.date,
    subject_id: int | None = None,
) -> dict[int, list[SubjectAverage]]:
    """Per child, per subject (by subject name): the averages of grades dated in
    [starts_on, ends_on]. Children without grades map to an empty list."""
    result: dict[int, list[SubjectAverage]] = {child: [] for child in child_ids}
    if not child_ids:
        return result
    query = averages_query(Grade.__table__.c.child_id.in_(list(child_ids)), subject=subject_id is not None)
    rows = await session.execute(query, {"start": starts_on, "end": ends_on, "subject": subject_id})
    return collect_averages(rows.all(), result)


async def averages_of_class(
    session: AsyncSession, *, class_id: int, subject_id: int, starts_on: dt.date, ends_on: dt.date
) -> dict[int, list[SubjectAverage]]:
    """`averages` in one subject of the children enrolled in a class during the dates,
    by a statement built once (the class journal's)."""
    params = {"class": class_id, "subject": subject_id, "start": starts_on, "end": ends_on}
    return collect_averages((await session.execute(_OF_CLASS, params)).all(), {})


_OF_SCHOOL_CLASSES = averages_query(
    Grade.__table__.c.class_id.in_(
        select(SchoolClass.__table__.c.id).where(
            SchoolClass.__table__.c.school_id == bindparam("school", type_=Integer)
        )
    ),
    subject=False,
    per_class=True,
)


async def averages_of_school_classes(
    session: AsyncSession, *, school_id: int, starts_on: dt.date, ends_on: dt.date
) -> dict[int, list[SubjectAverage]]:
    """Per class of the school, per subject (by name): the averages of the grades given in
    the class, dated in [starts_on, ends_on], pooled over its children, in one statement.
    Keyed by class id; each SubjectAverage's `child_id` holds the class id."""
    params = {"school": school_id, "start": starts_on, "end": ends_on}
    return collect_averages((await session.execute(_OF_SCHOOL_CLASSES, params)).all(), {})


def collect_averages(rows: Sequence[Any], result: dict[int, list[SubjectAverage]]) -> dict[int, list[SubjectAverage]]:
    for child, subject, name, short, external, school, sum_values, sum_weighted, sum_weights, count in rows:
        plain = Decimal(int(sum_values or 0)) / Decimal(int(count))
        weighted_avg = Decimal(int(sum_weighted or 0)) / Decimal(int(sum_weights or 1))
        result.setdefault(int(child), []).append(
            SubjectAverage(
                child_id=int(child),
                subject_id=int(subject),
                subject_name=name,
                subject_short_name=short,
                subject_external_id=external,
                subject_school_id=int(school),
                average=_round(plain),
                weighted_average=_round(weighted_avg),
                count=int(count),
            )
        )
    return result
