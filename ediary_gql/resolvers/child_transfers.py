"""Child transfers: the list to decide on, confirm, decline. Inputs come decoded
(schema/ids.py); results are rows and pages, turned into types by schema/child_transfers.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models import enums
from ediary_gql.db.models.children import ChildTransfer
from ediary_gql.db.models.users import User
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.resolvers import pages
from ediary_gql.services import child_transfers as service

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def child_transfers(ctx: Context, *, status: enums.ChildTransferStatus | None, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    stmt = service.visible_query(actor, enums.ChildTransferStatus(status) if status is not None else None)
    return await pages.page(ctx, stmt, paging, descending=True)


async def confirm_child_transfer(
    ctx: Context, session: AsyncSession, actor: Actor, *, transfer_id: int
) -> ChildTransfer:
    return await service.confirm_transfer(session, actor=actor, transfer_id=transfer_id)


async def decline_child_transfer(
    ctx: Context, session: AsyncSession, actor: Actor, *, transfer_id: int, reason: str | None
) -> ChildTransfer:
    return await service.decline_transfer(session, actor=actor, transfer_id=transfer_id, reason=reason)


async def incoming_guardians(ctx: Context, transfer_id: int) -> list[User]:
    """The guardians the asking school's record would bring to the child."""
    loader = ctx.loaders.grouped(service.incoming_guardians)
    return await loader.load(transfer_id)
