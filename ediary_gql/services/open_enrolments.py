"""Enrolments in force by each school's own date: a child leaves a school at the end of
the last day there, as the school's clock has it, not the server's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.schools import School
from ediary_gql.services.school_time import today_in


def maybe_open() -> ColumnElement[bool]:
    """Enrolments that may still be open at their school (no zone is behind UTC's yesterday);
    `open_at_school` then decides by the school's own today."""
    earliest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    return or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= earliest)


def open_at_school(ends_on: dt.date | None, zone: str | None) -> bool:
    return ends_on is None or ends_on >= today_in(zone)


async def child_schools(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, int]]:
    """(child id, school id) for each enrolment of the children not yet ended at its school
    (or starting ahead)."""
    rows = await session.execute(
        select(Enrollment.child_id, SchoolClass.school_id, Enrollment.ends_on, School.timezone)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.child_id.in_(child_ids), maybe_open())
    )
    return [(c, s) for c, s, ends, zone in rows.all() if open_at_school(ends, zone)]
