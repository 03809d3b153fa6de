"""Root fields of child transfers (part of the school setup area)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import child_transfers
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.child_transfer import (
    ChildTransfer,
    ChildTransferPayload,
    ChildTransferStatus,
    ConfirmChildTransferInput,
    DeclineChildTransferInput,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class ChildTransfersQuery:
    @strawberry.field(
        description="Requests of other schools to take over a record: those of the schools you administer "
        "and of your children, newest first"
    )
    async def child_transfers(
        self,
        info: Info,
        status: Annotated[
            ChildTransferStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only the transfers in this status"),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ChildTransfer]:
        page = await child_transfers.child_transfers(
            info.context,
            status=enums.ChildTransferStatus(status) if status is not None else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, ChildTransfer.from_row)


@strawberry.type
class ChildTransfersMutation:
    confirm_child_transfer: ChildTransferPayload = mutation(
        child_transfers.confirm_child_transfer,
        ConfirmChildTransferInput,
        ChildTransferPayload,
        description="Let the asking school take over the child's record (its own record of the child merges into it)",
    )
    decline_child_transfer: ChildTransferPayload = mutation(
        child_transfers.decline_child_transfer,
        DeclineChildTransferInput,
        ChildTransferPayload,
        description="Keep the record: the asking school keeps a record of its own, with none of this one's data",
    )
