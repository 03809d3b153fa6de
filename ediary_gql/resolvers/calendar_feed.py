"""Resolvers of createCalendarFeed and revokeCalendarFeed."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.routes.calendar_feed import FEED_ROUTE
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.calendar_feed import (
    CreateCalendarFeedInput,
    CreateCalendarFeedPayload,
    RevokeCalendarFeedPayload,
)
from ediary_gql.services import calendar_feed as service

Info = strawberry.Info[Context, None]


async def create_calendar_feed(info: Info, input: CreateCalendarFeedInput) -> CreateCalendarFeedPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        child_id = None if input.child_id is None else pk_of(input.child_id, "Child", field="childId")
        async with transaction(info.context) as session:
            token = await service.create_feed(session, actor=actor, child_id=child_id)
    except DomainError as exc:
        return CreateCalendarFeedPayload(url=None, user_errors=user_errors(exc))
    url = str(info.context.request.url_for(FEED_ROUTE, token=token))
    return CreateCalendarFeedPayload(url=url, user_errors=[])


async def revoke_calendar_feed(info: Info) -> RevokeCalendarFeedPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        async with transaction(info.context) as session:
            revoked = await service.revoke_feed(session, actor=actor)
    except DomainError as exc:
        return RevokeCalendarFeedPayload(revoked=False, user_errors=user_errors(exc))
    return RevokeCalendarFeedPayload(revoked=revoked, user_errors=[])
