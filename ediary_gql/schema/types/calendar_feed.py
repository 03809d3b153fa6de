"""Inputs and payloads of createCalendarFeed and revokeCalendarFeed."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay

from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload


@strawberry.input(description="Which feed: a child's diary (parents, the student) or, without a child, your lessons")
class CreateCalendarFeedInput:
    child_id: relay.GlobalID | None = node_id(
        "Child",
        default=None,
        description="The child whose lessons and homework to show; omit for a teacher's own lessons",
    )


@strawberry.type(description="A new calendar feed: subscribe to the URL in a calendar app")
class CreateCalendarFeedPayload(Payload):
    url: str | None = strawberry.field(
        default=None, description="The feed's secret URL, shown only now; a new feed makes earlier URLs stop working"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: str) -> Self:
        return cls(url=result)


@strawberry.type(description="Whether the calendar feed's link was revoked, or why not")
class RevokeCalendarFeedPayload(Payload):
    revoked: bool = strawberry.field(default=False, description="Whether there was a feed to revoke")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: bool) -> Self:
        return cls(revoked=result)
