"""The Attachment type: an uploaded file (PDF, JPG or PNG) and where to download it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models.attachments import Attachment as AttachmentRow
from ediary_gql.resolvers import attachments as fields
from ediary_gql.schema.node import EntityNode

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="Attachment", description="An uploaded file; its type is checked by content")
class Attachment(EntityNode):
    model = AttachmentRow

    id: relay.NodeID[int]
    file_name: str = strawberry.field(description="The name the file was uploaded with (no folders)")
    content_type: str = strawberry.field(description="application/pdf, image/jpeg or image/png, from the content")
    size_bytes: int = strawberry.field(description="Size of the file in bytes")
    sha256: str = strawberry.field(description="SHA-256 of the content, lower-case hex")
    created_at: dt.datetime = strawberry.field(description="When the attachment was created")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            file_name=row.file_name,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            created_at=row.created_at,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view(context, row.id, row.owner_id)

    @strawberry.field(description="Download address: GET it with the same `Authorization: Bearer` header")
    def url(self, info: strawberry.Info[Context, None]) -> str:
        return fields.download_url(info.context, self.id)
