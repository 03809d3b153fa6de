"""DataRequest (an export of one's own data, or an erasure request), SensitiveRead (a
read of a child's SNILS or birth certificate), their inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import personal_data as rows
from ediary_gql.resolvers import personal_data as fields
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode

if TYPE_CHECKING:
    from ediary_gql.context import Context

    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias would hide `info` from strawberry
    Info = strawberry.Info

DataRequestKind = strawberry.enum(
    rows.DataRequestKind, description="EXPORT (everything held about you, as a ZIP) or ERASURE"
)
DataRequestStatus = strawberry.enum(
    rows.DataRequestStatus,
    description="An export: QUEUED → RUNNING → READY | FAILED, EXPIRED once its file is deleted; an erasure: "
    "SUBMITTED → DONE (approved and carried out) or REJECTED",
)
ErasureDecision = strawberry.enum(fields.ErasureDecision, description="APPROVE (and carry out) or REJECT")


@strawberry.type(name="DataRequest", description="A request about one's own personal data")
class DataRequest(EntityNode):
    model = rows.DataRequest

    id: relay.NodeID[int]
    kind: DataRequestKind = strawberry.field(description="An export or an erasure")  # type: ignore[valid-type]
    status: DataRequestStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the request is in its life cycle"
    )
    include_children: bool = strawberry.field(description="An erasure: the children's records anonymised too")
    holds: str | None = strawberry.field(description="What is kept by law, and why, as the operator stated")
    decision_comment: str | None = strawberry.field(description="The operator's comment on an erasure decision")
    decided_at: dt.datetime | None = strawberry.field(description="When an operator decided on the erasure")
    created_at: dt.datetime = strawberry.field(description="When the request was made")
    finished_at: dt.datetime | None = strawberry.field(description="When the export or erasure was finished")
    expires_at: dt.datetime | None = strawberry.field(description="When a READY export's file is deleted")
    byte_size: int | None = strawberry.field(description="Size of a READY export's ZIP in bytes")
    error: str | None = strawberry.field(description="Why a FAILED export failed")
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            kind=rows.DataRequestKind(row.kind),
            status=rows.DataRequestStatus(row.status),
            include_children=bool(row.include_children),
            holds=row.holds,
            decision_comment=row.decision_comment,
            decided_at=row.decided_at,
            created_at=row.created_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
            byte_size=row.byte_size,
            error=row.error,
            _row=row,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return fields.may_view_request(context, row)

    @strawberry.field(
        description="Where the requester GETs the ZIP, with the same Authorization header as for the API; null "
        "unless READY"
    )
    def download_url(self, info: Info) -> str | None:
        return fields.download_url(info.context, self._row, relay.to_base64("DataRequest", self.id))


@strawberry.type(name="SensitiveRead", description="One read of a child's SNILS or birth certificate")
class SensitiveRead(EntityNode):
    model = rows.SensitiveRead

    id: relay.NodeID[int]
    field: str = strawberry.field(description="Child.snils or Child.birthCertificate (or of an application)")
    operation: str | None = strawberry.field(description="Why: the operation it was read in")
    address: str | None = strawberry.field(description="From where: the reader's address")
    read_at: dt.datetime = strawberry.field(description="When: the moment of the read")
    reader_id: relay.GlobalID | None = strawberry.field(description="Who (a User); null once their account is gone")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            field=row.field,
            operation=row.operation,
            address=row.address,
            read_at=row.read_at,
            reader_id=None if row.reader_id is None else relay.GlobalID("User", str(row.reader_id)),
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_read(context, row)


@strawberry.type(description="The export request queued, or why it was refused")
class RequestMyDataPayload(Payload):
    data_request: DataRequest | None = strawberry.field(
        default=None, description="The export request as queued; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="Ask for your personal data (and your children's) to be erased")
class RequestErasureInput:
    reason: str | None = strawberry.field(default=None, description="Why, in your words (optional)")
    include_children: bool = strawberry.field(
        default=False, description="Anonymise your children's school records too, where you are their only guardian"
    )


@strawberry.type(description="The erasure request submitted, or why it was refused")
class RequestErasurePayload(Payload):
    data_request: DataRequest | None = strawberry.field(
        default=None, description="The erasure request as submitted; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="An operator's decision on an erasure request")
class DecideErasureInput:
    request_id: relay.GlobalID = node_id("DataRequest")
    decision: ErasureDecision = strawberry.field(description="Approve or reject")  # type: ignore[valid-type]
    holds: str = strawberry.field(
        description="The legal holds: what is kept (grades and attendance, anonymised) and on which ground"
    )
    comment: str | None = strawberry.field(default=None, description="A comment for the requester")


@strawberry.type(description="The erasure request after the decision, or why it was refused")
class DecideErasurePayload(Payload):
    data_request: DataRequest | None = strawberry.field(
        default=None, description="The erasure request as decided; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
