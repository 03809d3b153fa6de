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

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="Notification", description="An entry in a user's notification inbox")
class Notification(EntityNode):
    model = NotificationRow

    id: relay.NodeID[int]
    kind: NotificationKind  # type: ignore[valid-type]
    title: str
    body: str
    payload: JSON = strawberry.field(
        description="What the notification is about: rows named by their global IDs, under camelCase keys"
    )
    created_at: dt.datetime
    read_at: dt.datetime | None

    @strawberry.field
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
