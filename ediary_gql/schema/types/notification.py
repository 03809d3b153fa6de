"""The Notification type: an inbox entry of one user."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ediary_gql.auth import policy
from ediary_gql.db.models.enums import NotificationKind as KindEnum
from ediary_gql.db.models.notifications import Notification as NotificationRow
from ediary_gql.schema.enums import NotificationKind
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.stream import cursor_field

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="Notification", description="An entry in a user's notification inbox")
class Notification(EntityNode):
    model = NotificationRow

    id: relay.NodeID[int]
    kind: NotificationKind = strawberry.field(description="What kind of notification it is")  # type: ignore[valid-type]
    title: str = strawberry.field(description="The heading")
    body: str = strawberry.field(description="The notice's text")
    payload: JSON = strawberry.field(
        description="What the notification is about: rows named by their global IDs, under camelCase keys"
    )
    created_at: dt.datetime = strawberry.field(description="When the notification was created")
    read_at: dt.datetime | None = strawberry.field(description="When it was read; null while unread")

    @strawberry.field(description="Whether it has been read")
    def is_read(self) -> bool:
        return self.read_at is not None

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            kind=KindEnum(row.kind),
            title=row.title,
            body=row.body,
            payload=cast(JSON, row.payload or {}),
            created_at=row.created_at,
            read_at=row.read_at,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return policy.can_view_notification(context.actor, row.user_id) and policy.shows_in_inbox(row.kind)


@strawberry.type(description="A new notification of the signed-in user")
class NotificationEvent:
    notification: Notification = strawberry.field(description="The new notification")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, row: Any, cursor: str) -> Self:
        return cls(notification=Notification.from_row(row), cursor=cursor)
