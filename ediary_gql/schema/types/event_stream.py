"""The events query's page: StreamEvent (one change, with the entity it is about) and EventPage."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import strawberry
from strawberry import relay

from ediary_gql.services import event_stream as service

EventType = strawberry.enum(
    service.EventType,
    name="EventType",
    description="What an event is about: the kinds of change the live streams send",
)


@strawberry.type(description="One change from the event log, as a live stream would have sent it")
class StreamEvent:
    cursor: str = strawberry.field(description="Where this event is in the log: pass it as `after` to read on after it")
    type: EventType = strawberry.field(description="What the event is about")  # type: ignore[valid-type]
    action: str | None = strawberry.field(
        description="What happened: a grade's CREATED/CORRECTED/DELETED, an announcement's published/updated/"
        "withdrawn, a ticket's action, a message's message/read/left, an application's new status; "
        "null where the kind has none (attendance, notifications)"
    )
    occurred_at: dt.datetime = strawberry.field(description="When the change was committed")
    subject_id: relay.GlobalID = strawberry.field(
        description="The global ID of the entity the event is about: a Grade, a Lesson (attendance), an "
        "Application, a Notification, a Message (or a Thread, for reads and departures), an Announcement "
        "or a FeedbackTicket"
    )

    @strawberry.field(description="The entity the event is about, as it is now; null when gone or not yours to see")
    async def subject(self, info: strawberry.Info) -> relay.Node | None:
        found: relay.Node | None = await self.subject_id.resolve_node(info)
        return found

    @classmethod
    def of(cls, item: service.StreamItem) -> Self:
        return cls(
            cursor=item.cursor,
            type=item.type,
            action=item.action,
            occurred_at=item.occurred_at,
            subject_id=relay.GlobalID(item.subject_type, str(item.subject_pk)),
        )


@strawberry.type(description="A page of the viewer's events, oldest first")
class EventPage:
    events: list[StreamEvent] = strawberry.field(description="The events of this page, oldest first")
    cursor: str = strawberry.field(
        description="Resume from here (pass it as `after`): the last event's cursor; with no event, where the "
        "read got to (the log's end, or as far as this page read)"
    )
    has_more: bool = strawberry.field(description="Whether more may follow at once: ask again with `cursor`")

    @classmethod
    def of(cls, page: Any) -> Self:
        return cls(events=[StreamEvent.of(item) for item in page.events], cursor=page.cursor, has_more=page.has_more)
