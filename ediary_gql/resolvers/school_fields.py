"""Fields of School that need related rows or a policy decision (schools area)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus, StaffRole
from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.db.models.schools import School, StaffBinding
from ediary_gql.db.models.users import User
from ediary_gql.resolvers import attachments, directory

if TYPE_CHECKING:
    from ediary_gql.context import Context


def may_view(context: Context, row: Any) -> bool:
    """May the viewer see this school (a row of `schools`) at all?"""
    return policy.can_view_school(
        context.actor,
        row.id,
        is_active=row.status == SchoolStatus.ACTIVE,
        is_open=row.launch_mode == LaunchMode.OPEN,
        registered_by_id=row.registered_by_id,
    )


async def settlement(context: Context, settlement_id: int) -> Settlement:
    row = await context.loaders.by_id(Settlement).load(settlement_id)
    assert row is not None  # noqa: S101 - a foreign key
    return row


async def region(context: Context, settlement_id: int) -> Region:
    place = await settlement(context, settlement_id)
    [row] = await directory.regions_by_code(context, [place.region_code])
    assert row is not None  # noqa: S101 - a foreign key
    return row


def may_view_review(context: Context, registered_by_id: int | None) -> bool:
    return policy.can_view_school_review(context.actor, registered_by_id=registered_by_id)


async def registrant(context: Context, registered_by_id: int | None) -> User | None:
    if registered_by_id is None or not may_view_review(context, registered_by_id):
        return None
    return await context.loaders.by_id(User).load(registered_by_id)


async def _registration_documents(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, Attachment]]:
    """The registrant's SCHOOL_ADMIN request of each school carries the appointment document."""
    rows = await session.execute(
        select(School.id, Attachment)
        .join(StaffBinding, (StaffBinding.school_id == School.id) & (StaffBinding.user_id == School.registered_by_id))
        .join(Attachment, Attachment.id == StaffBinding.document_id)
        .where(School.id.in_(school_ids), StaffBinding.role == StaffRole.SCHOOL_ADMIN)
        .order_by(StaffBinding.id.desc())
    )
    return [(school_id, attachment) for school_id, attachment in rows.all()]


async def appointment_document(context: Context, school_id: int, registered_by_id: int | None) -> Attachment | None:
    if not may_view_review(context, registered_by_id):
        return None
    loader = context.loaders.grouped(_registration_documents)
    documents = await loader.load(school_id)
    if not documents or not await attachments.may_view(context, documents[0].id, documents[0].owner_id):
        return None
    return documents[0]
