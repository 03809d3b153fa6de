"""Root fields of the calendar feed."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import calendar_feed
from ediary_gql.schema.types.calendar_feed import CreateCalendarFeedPayload, RevokeCalendarFeedPayload


@strawberry.type
class CalendarFeedMutation:
    create_calendar_feed: CreateCalendarFeedPayload = strawberry.mutation(
        resolver=calendar_feed.create_calendar_feed,
        description="A secret iCalendar URL with a child's (or your own) lessons and homework due dates",
    )
    revoke_calendar_feed: RevokeCalendarFeedPayload = strawberry.mutation(
        resolver=calendar_feed.revoke_calendar_feed, description="Stop your calendar feed's URL from working"
    )
