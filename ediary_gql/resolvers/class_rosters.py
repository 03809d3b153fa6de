"""Who is in a class: the children enrolled today and the teaching assignments, through
per-request loaders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.schools import School
from ediary_gql.services.open_enrolments import maybe_open, open_at_school
from ediary_gql.services.school_time import today_in

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def _class_children(session: AsyncSession, class_ids: list[int]) -> list[tuple[int, Child]]:
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # no zone is past UTC's tomorrow
    rows = await session.execute(
        select(Enrollment.class_id, Child, Enrollment.starts_on, Enrollment.ends_on, School.timezone)
        .join(Child, Child.id == Enrollment.child_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.class_id.in_(class_ids), maybe_open(), Enrollment.starts_on <= latest)
        .order_by(Child.last_name, Child.first_name, Child.middle_name, Child.id)
    )
    return [
        (c, ch) for c, ch, starts, ends, zone in rows.all() if starts <= today_in(zone) and open_at_school(ends, zone)
    ]


async def class_children(context: Context, class_id: int) -> list[Child]:
    """Children enrolled in the class today, by name."""
    return await context.loaders.grouped(_class_children).load(class_id)


async def _class_assignments(session: AsyncSession, class_ids: list[int]) -> list[tuple[int, TeachingAssignment]]:
    rows = await session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.class_id.in_(class_ids)).order_by(TeachingAssignment.id)
    )
    return [(r.class_id, r) for r in rows]


async def class_assignments(context: Context, class_id: int) -> list[TeachingAssignment]:
    return await context.loaders.grouped(_class_assignments).load(class_id)
