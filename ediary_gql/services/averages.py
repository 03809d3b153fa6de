"""Averages of grades per child and subject over a period: plain and weighted.

One GROUP BY statement for any number of children. Only live (not deleted)
regular grades with a numeric value count; pass/fail marks and final grades
do not. A grade belongs to the period its date falls in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.classes import Subject
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
    total = func.sum(Grade.numeric_value)
    # weights have two decimals: summing them ×100 as integers keeps the arithmetic exact
    # on both backends (SQLite would sum NUMERIC as floats)
    weight_cents = cast(func.round(Grade.weight * 100), Integer)
    weighted = func.sum(Grade.numeric_value * weight_cents)
    weights = func.sum(weight_cents)
    query = (
        select(
            Grade.child_id,
            Grade.subject_id,
            Subject.name,
            Subject.short_name,
            Subject.external_id,
            Subject.school_id,
            total,
            weighted,
            weights,
            func.count(Grade.id),
        )
        .join(Subject, Subject.id == Grade.subject_id)
        .where(
            Grade.child_id.in_(list(child_ids)),
            Grade.graded_on.between(starts_on, ends_on),
            Grade.deleted_at.is_(None),
            Grade.kind == GradeKind.REGULAR,
            Grade.numeric_value.is_not(None),
        )
        .group_by(
            Grade.child_id, Grade.subject_id, Subject.name, Subject.short_name, Subject.external_id, Subject.school_id
        )
        .order_by(Grade.child_id, Subject.name)
    )
    if subject_id is not None:
        query = query.where(Grade.subject_id == subject_id)
    for child, subject, name, short, external, school, sum_values, sum_weighted, sum_weights, count in (
        await session.execute(query)
    ).all():
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
