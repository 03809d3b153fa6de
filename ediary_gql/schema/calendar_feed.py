"""Root fields of the calendar feed."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import calendar_feed
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.calendar_feed import (
    CreateCalendarFeedInput,
    CreateCalendarFeedPayload,
    RevokeCalendarFeedPayload,
)


@strawberry.type
class CalendarFeedMutation:
    create_calendar_feed: CreateCalendarFeedPayload = mutation(
        calendar_feed.create_calendar_feed,
        CreateCalendarFeedInput,
        CreateCalendarFeedPayload,
        description="A secret iCalendar URL with a child's (or your own) lessons and homework due dates",
    )
    revoke_calendar_feed: RevokeCalendarFeedPayload = mutation(
        calendar_feed.revoke_calendar_feed,
        None,
        RevokeCalendarFeedPayload,
        description="Stop your calendar feed's URL from working",
    )
