"""Root field of the event log for clients that poll: the live streams' HTTP twin."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers import event_stream
from ediary_gql.schema.types.event_stream import EventPage, EventType
from ediary_gql.services.event_stream import DEFAULT_FIRST, MAX_FIRST

Info = strawberry.Info[Context, None]


@strawberry.type
class EventStreamQuery:
    @strawberry.field(
        description="The viewer's events after a cursor, oldest first, each checked as its live stream checks it "
        "and shown once: for clients that poll instead of subscribing. "
        f"`first`: 1…{MAX_FIRST} (null: {DEFAULT_FIRST}); no `after`: from the oldest event kept; a cursor "
        "older than what the log keeps (or from elsewhere) is refused with CURSOR_EXPIRED"
    )
    async def events(
        self,
        info: Info,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Cursor of the last event read; from the start of the log kept when absent"
            ),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="At most this many events")] = DEFAULT_FIRST,
        types: Annotated[list[EventType] | None, strawberry.argument(description="Only events of these types")] = None,  # type: ignore[valid-type]
    ) -> EventPage:
        page = await event_stream.events(
            info.context, after=after, first=DEFAULT_FIRST if first is None else first, types=types
        )
        return EventPage.of(page)
