"""createCalendarFeed and revokeCalendarFeed: the new feed's secret URL, whether one was revoked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.routes.calendar_feed import FEED_ROUTE
from ediary_gql.services import calendar_feed as service


async def create_calendar_feed(ctx: Context, session: AsyncSession, actor: Actor, *, child_id: int | None) -> str:
    """The feed's secret URL (shown only now)."""
    token = await service.create_feed(session, actor=actor, child_id=child_id)
    return str(ctx.request.url_for(FEED_ROUTE, token=token))


async def revoke_calendar_feed(ctx: Context, session: AsyncSession, actor: Actor) -> bool:
    return await service.revoke_feed(session, actor=actor)
