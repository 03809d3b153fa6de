"""StaffBinding: a request to act for a school in a role; its inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.auth import policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.attachments import Attachment as AttachmentRow
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.db.models.schools import StaffBinding as StaffBindingRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import school_setup
from ediary_gql.schema.enums import StaffRole
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.user import User
from ediary_gql.services.staff_bindings import Decision

if TYPE_CHECKING:
    from ediary_gql.context import Context

StaffBindingStatus = strawberry.enum(
    enums.StaffBindingStatus, description="PENDING until decided; then ACTIVE (approved) or REJECTED"
)
StaffDocumentKind = strawberry.enum(
    enums.StaffDocumentKind, description="The supporting document: appointment order, school certificate, contract"
)
StaffBindingDecision = strawberry.enum(Decision, name="StaffBindingDecision", description="A reviewer's decision")


@strawberry.type(name="StaffBinding", description="A request to act for a school in a role, with its document")
class StaffBinding(EntityNode):
    model = StaffBindingRow

    id: relay.NodeID[int]
    role: StaffRole = strawberry.field(description="The role asked for at the school")  # type: ignore[valid-type]
    status: StaffBindingStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the staff binding is in its life cycle"
    )
    document_kind: StaffDocumentKind = strawberry.field(  # type: ignore[valid-type]
        description="What the supporting document is"
    )
    reason: str | None = strawberry.field(description="Why the request was rejected")
    decided_at: dt.datetime | None = strawberry.field(description="When the staff binding was decided; null until then")
    created_at: dt.datetime = strawberry.field(description="When the staff binding was created")
    _user_id: strawberry.Private[int]
    _school_id: strawberry.Private[int]
    _document_id: strawberry.Private[int]
    _comment: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            role=enums.StaffRole(row.role),
            status=enums.StaffBindingStatus(row.status),
            document_kind=enums.StaffDocumentKind(row.document_kind),
            reason=row.reason,
            decided_at=row.decided_at,
            created_at=row.created_at,
            _user_id=row.user_id,
            _school_id=row.school_id,
            _document_id=row.document_id,
            _comment=row.comment,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return policy.can_view_staff_binding(context.actor, requester_id=row.user_id, school_id=row.school_id)

    @strawberry.field(description="The requester's note for the reviewer")
    def comment(self, info: strawberry.Info[Context, None]) -> str | None:
        if not policy.can_view_staff_binding(info.context.actor, requester_id=self._user_id, school_id=self._school_id):
            return None
        return self._comment

    @strawberry.field(description="Who asks for the role")
    async def user(self, info: strawberry.Info[Context, None]) -> User:
        row = await info.context.loaders.by_id(UserRow).load(self._user_id)
        assert row is not None  # noqa: S101 - a foreign key
        return User.from_row(row)

    @strawberry.field(description="The school the role is asked at")
    async def school(self, info: strawberry.Info[Context, None]) -> School:
        row = await info.context.loaders.by_id(SchoolRow).load(self._school_id)
        assert row is not None  # noqa: S101 - a foreign key
        return School.from_row(row)

    @strawberry.field(description="The supporting document; null for those who may not read it")
    async def document(self, info: strawberry.Info[Context, None]) -> Attachment | None:
        row = await info.context.loaders.by_id(AttachmentRow).load(self._document_id)
        if row is None or not await Attachment.visible(info.context, row):
            return None
        return Attachment.from_row(row)

    @strawberry.field(description="A TEACHER request from someone the school's admin invited (inviteTeacher)")
    async def invited(self, info: strawberry.Info[Context, None]) -> bool:
        return await school_setup.binding_invited(info.context, self.id)


@strawberry.input(description="Ask to act for a school in a role; the document goes as a multipart upload")
class RequestStaffBindingInput:
    school_inn: str = strawberry.field(description="The school's INN (10 digits)")
    role: StaffRole = strawberry.field(description="The role asked for")  # type: ignore[valid-type]
    document_kind: StaffDocumentKind = strawberry.field(  # type: ignore[valid-type]
        description="What the supporting document is"
    )
    document: Upload = strawberry.field(description="PDF, JPG or PNG, at most 5 MB")
    comment: str | None = strawberry.field(default=None, description="A note for the reviewer")


@strawberry.input(description="Approve or reject a pending staff-binding request")
class ReviewStaffBindingInput:
    binding_id: relay.GlobalID = node_id("StaffBinding")
    decision: StaffBindingDecision = strawberry.field(description="Approve or reject")  # type: ignore[valid-type]
    reason: str | None = strawberry.field(default=None, description="Required when rejecting; shown to the requester")


@strawberry.input(description="Which staff-binding requests to list: by status and school")
class StaffBindingFilter:
    status: StaffBindingStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those in this status"
    )
    school_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those of this school")


@strawberry.type(description="The new staff-binding request, or why it was refused")
class RequestStaffBindingPayload(Payload):
    staff_binding: StaffBinding | None = strawberry.field(
        default=None, description="The staff binding as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The decided staff-binding request, or why the decision was refused")
class ReviewStaffBindingPayload(Payload):
    staff_binding: StaffBinding | None = strawberry.field(
        default=None, description="The staff binding as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
