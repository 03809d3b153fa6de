"""Inputs and payloads of createCalendarFeed and revokeCalendarFeed."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ediary_gql.schema.errors import UserError


@strawberry.input(description="Which feed: a child's diary (parents, the student) or, without a child, your lessons")
class CreateCalendarFeedInput:
    child_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The child whose lessons and homework to show; omit for a teacher's own lessons"
    )


@strawberry.type(description="A new calendar feed: subscribe to the URL in a calendar app")
class CreateCalendarFeedPayload:
    url: str | None = strawberry.field(
        description="The feed's secret URL, shown only now; a new feed makes earlier URLs stop working"
    )
    user_errors: list[UserError]


@strawberry.type
class RevokeCalendarFeedPayload:
    revoked: bool = strawberry.field(description="Whether there was a feed to revoke")
    user_errors: list[UserError]
