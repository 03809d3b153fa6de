"""Root fields of child transfers (part of the school setup area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import child_transfers
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.child_transfer import ChildTransfer, ChildTransferPayload


@strawberry.type
class ChildTransfersQuery:
    child_transfers: Connection[ChildTransfer] = strawberry.field(
        resolver=child_transfers.child_transfers,
        description="Requests of other schools to take over a record: those of the schools you administer "
        "and of your children, newest first",
    )


@strawberry.type
class ChildTransfersMutation:
    confirm_child_transfer: ChildTransferPayload = strawberry.mutation(
        resolver=child_transfers.confirm_child_transfer,
        description="Let the asking school take over the child's record (its own record of the child merges into it)",
    )
    decline_child_transfer: ChildTransferPayload = strawberry.mutation(
        resolver=child_transfers.decline_child_transfer,
        description="Keep the record: the asking school keeps a record of its own, with none of this one's data",
    )
