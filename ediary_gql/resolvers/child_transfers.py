"""Resolvers of child transfers: the list to decide on, confirm, decline."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.children import ChildTransfer as ChildTransferRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.child_transfer import (
    ChildTransfer,
    ChildTransferPayload,
    ChildTransferStatus,
    ConfirmChildTransferInput,
    DeclineChildTransferInput,
)
from ediary_gql.services import child_transfers as service

Info = strawberry.Info[Context, None]


async def child_transfers(
    info: Info,
    status: ChildTransferStatus | None = None,  # type: ignore[valid-type]
    first: int | None = None,
    after: str | None = None,
) -> Connection[ChildTransfer]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    stmt = service.visible_query(actor, enums.ChildTransferStatus(status) if status is not None else None)
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            stmt,
            key=[ChildTransferRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )
    return to_connection(page, ChildTransfer.from_row)


async def confirm_child_transfer(info: Info, input: ConfirmChildTransferInput) -> ChildTransferPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        transfer_id = pk_of(input.transfer_id, "ChildTransfer", field="transferId")
        async with transaction(ctx) as session:
            row = await service.confirm_transfer(session, actor=actor, transfer_id=transfer_id)
    except DomainError as exc:
        return ChildTransferPayload(user_errors=user_errors(exc))
    return ChildTransferPayload(child_transfer=ChildTransfer.from_row(row))


async def decline_child_transfer(info: Info, input: DeclineChildTransferInput) -> ChildTransferPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        transfer_id = pk_of(input.transfer_id, "ChildTransfer", field="transferId")
        async with transaction(ctx) as session:
            row = await service.decline_transfer(session, actor=actor, transfer_id=transfer_id, reason=input.reason)
    except DomainError as exc:
        return ChildTransferPayload(user_errors=user_errors(exc))
    return ChildTransferPayload(child_transfer=ChildTransfer.from_row(row))
