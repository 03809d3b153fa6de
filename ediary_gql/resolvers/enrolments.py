"""Where children study: their schools and enrolments, through per-request loaders, and
the policy facts that follow from them (who may see a child, a child's documents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.schools import School
from ediary_gql.services.open_enrolments import child_schools, maybe_open, open_at_school

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def child_school_ids(context: Context, child_id: int) -> frozenset[int]:
    """Schools where the child is enrolled now (or from a date ahead)."""
    return frozenset(await context.loaders.grouped(child_schools).load(child_id))


async def family_school_ids(context: Context) -> frozenset[int]:
    """Schools where the viewer's wards (or their own child record) are enrolled."""
    actor = context.actor
    if actor is None:
        return frozenset()
    children = set(actor.guardian_of)
    if actor.student_child_id is not None:
        children.add(actor.student_child_id)
    if not children:
        return frozenset()
    loader = context.loaders.grouped(child_schools)
    groups = await loader.load_many(sorted(children))
    return frozenset(s for group in groups for s in group)


async def may_view_child(context: Context, child_id: int) -> bool:
    return policy.can_view_child(context.actor, child_id, school_ids=await child_school_ids(context, child_id))


async def may_view_child_documents(context: Context, child_id: int) -> bool:
    return policy.can_view_child_documents(
        context.actor, child_id, school_ids=await child_school_ids(context, child_id)
    )


async def _current_enrollments(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, Enrollment]]:
    rows = await session.execute(
        select(Enrollment, School.timezone)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.child_id.in_(child_ids), maybe_open())
        .order_by(Enrollment.child_id, Enrollment.starts_on)
    )
    return [(row.child_id, row) for row, zone in rows.all() if open_at_school(row.ends_on, zone)]


async def current_enrollment(context: Context, child_id: int) -> Enrollment | None:
    """The enrolment in force: the earliest one not yet ended (a move ahead keeps the old one until then)."""
    rows = await context.loaders.grouped(_current_enrollments).load(child_id)
    return rows[0] if rows else None


async def _child_enrollments(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, tuple[Enrollment, int]]]:
    rows = await session.execute(
        select(Enrollment, SchoolClass.school_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.child_id.in_(child_ids))
        .order_by(Enrollment.starts_on, Enrollment.id)
    )
    return [(r.child_id, (r, school_id)) for r, school_id in rows.all()]


async def child_enrollments(context: Context, child_id: int) -> list[Enrollment]:
    """The child's enrolments: all of them for the family, those at the viewer's own
    schools for staff (policy.can_view_enrollment)."""
    rows = await context.loaders.grouped(_child_enrollments).load(child_id)
    return [row for row, school_id in rows if policy.can_view_enrollment(context.actor, child_id, school_id)]
