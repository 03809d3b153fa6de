"""ChildTransfer: another school's request to take over a child's record; its inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.children import ChildTransfer as ChildTransferRow
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.resolvers import child_transfers
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.school_class import Child

if TYPE_CHECKING:
    from ediary_gql.context import Context

ChildTransferStatus = strawberry.enum(
    enums.ChildTransferStatus, description="PENDING until decided; then CONFIRMED (the record moved) or DECLINED"
)


@strawberry.type(description="A child as a school described them")
class TransferredChild:
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(description="Patronymic, if any")
    birth_date: dt.date = strawberry.field(description="Date of birth")


@strawberry.type(
    name="ChildTransfer",
    description="Another school asks to take over a child's record (its SNILS or birth certificate matched); "
    "seen and decided by the admins of the school that holds the record and by the child's guardians",
)
class ChildTransfer(EntityNode):
    model = ChildTransferRow

    id: relay.NodeID[int]
    status: ChildTransferStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the child transfer is in its life cycle"
    )
    reason: str | None = strawberry.field(description="Why the transfer was declined")
    created_at: dt.datetime = strawberry.field(description="When the child transfer was created")
    decided_at: dt.datetime | None = strawberry.field(
        description="When the child transfer was decided; null until then"
    )
    _child_id: strawberry.Private[int]
    _record_id: strawberry.Private[int | None]
    _from_school_id: strawberry.Private[int]
    _to_school_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            status=enums.ChildTransferStatus(row.status),
            reason=row.reason,
            created_at=row.created_at,
            decided_at=row.decided_at,
            _child_id=row.child_id,
            _record_id=row.record_id,
            _from_school_id=row.from_school_id,
            _to_school_id=row.to_school_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return policy.can_decide_child_transfer(context.actor, from_school_id=row.from_school_id, child_id=row.child_id)

    @strawberry.field(description="The child whose record is asked for (as the holding school knows them)")
    async def child(self, info: strawberry.Info[Context, None]) -> Child | None:
        row = await info.context.loaders.by_id(ChildRow).load(self._child_id)
        if row is None or not await Child.visible(info.context, row):
            return None
        return Child.from_row(row)

    @strawberry.field(
        description="The child as the asking school gave them (null once merged): compare before confirming"
    )
    async def requested_child(self, info: strawberry.Info[Context, None]) -> TransferredChild | None:
        if self._record_id is None:
            return None
        row = await info.context.loaders.by_id(ChildRow).load(self._record_id)
        if row is None:
            return None
        return TransferredChild(
            last_name=row.last_name, first_name=row.first_name, middle_name=row.middle_name, birth_date=row.birth_date
        )

    @strawberry.field(
        description="Who would become the child's guardians too, by name: the asking school's guardians "
        "of its record (they read the whole diary once the transfer is confirmed)"
    )
    async def incoming_guardians(self, info: strawberry.Info[Context, None]) -> list[str]:
        users = await child_transfers.incoming_guardians(info.context, self.id)
        return [u.full_name for u in users]

    @strawberry.field(description="The school that holds the record")
    async def from_school(self, info: strawberry.Info[Context, None]) -> School | None:
        row = await info.context.loaders.by_id(SchoolRow).load(self._from_school_id)
        return School.from_row(row) if row is not None else None

    @strawberry.field(description="The school that asks for it")
    async def to_school(self, info: strawberry.Info[Context, None]) -> School | None:
        row = await info.context.loaders.by_id(SchoolRow).load(self._to_school_id)
        return School.from_row(row) if row is not None else None


@strawberry.input(description="Confirm a transfer: the asking school's record merges into the held one, which moves")
class ConfirmChildTransferInput:
    transfer_id: relay.GlobalID = node_id("ChildTransfer")


@strawberry.input(description="Decline a transfer: the two schools keep records of their own")
class DeclineChildTransferInput:
    transfer_id: relay.GlobalID = node_id("ChildTransfer")
    reason: str | None = strawberry.field(default=None, description="Kept with the decision")


@strawberry.type(description="The child transfer after the decision, or why it was refused")
class ChildTransferPayload(Payload):
    child_transfer: ChildTransfer | None = strawberry.field(
        default=None, description="The child transfer as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
