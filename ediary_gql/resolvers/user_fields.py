"""Fields of User that need related rows or a policy decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.schools import StaffMembership

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def _memberships_query(session: AsyncSession, user_ids: list[int]) -> list[tuple[int, tuple[int, StaffRole]]]:
    rows = await session.execute(
        select(StaffMembership.user_id, StaffMembership.school_id, StaffMembership.role).where(
            StaffMembership.user_id.in_(user_ids), StaffMembership.active.is_(True)
        )
    )
    return [(uid, (sid, StaffRole(role))) for uid, sid, role in rows.all()]


async def all_memberships(context: Context, user_id: int) -> list[tuple[int, StaffRole]]:
    loader = context.loaders.grouped(_memberships_query)
    return await loader.load(user_id)


async def school_ids(context: Context, user_id: int) -> frozenset[int]:
    return frozenset(school for school, _ in await all_memberships(context, user_id))


async def may_see_contacts(context: Context, user_id: int) -> bool:
    return policy.can_view_contacts(context.actor, user_id, user_school_ids=await school_ids(context, user_id))


async def may_see_birth_date(context: Context, user_id: int) -> bool:
    return policy.can_view_birth_date(context.actor, user_id, user_school_ids=await school_ids(context, user_id))


async def memberships(context: Context, user_id: int) -> list[tuple[int, StaffRole]]:
    """The user's roles, as far as the viewer may see them (policy.can_view_membership)."""
    rows = await all_memberships(context, user_id)
    actor = context.actor
    return [(school, role) for school, role in rows if policy.can_view_membership(actor, user_id, school_id=school)]
