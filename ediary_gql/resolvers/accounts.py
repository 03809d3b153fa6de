"""Accounts: me, sign-in, refresh and sign-out, the notification inbox and its feed.
Inputs come decoded; results are rows, pages and the sessions service's token pairs,
turned into types by schema/accounts.py and schema/types/auth.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.users import User
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.errors import DomainError, ErrorCode, RecordedRefusal
from ediary_gql.events import channels
from ediary_gql.resolvers import pages
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.resolvers.transaction import act_as
from ediary_gql.services import notifications as notification_service
from ediary_gql.services import sessions


async def me(ctx: Context) -> User | None:
    actor = ctx.actor
    if actor is None:
        return None
    return await ctx.loaders.by_id(User).load(actor.user_id)


def _signed_in(ctx: Context, session: AsyncSession, pair: sessions.TokenPair) -> sessions.TokenPair:
    """The rest of this response is read as the person who has just signed in, once the
    sign-in has committed."""
    user = pair.user
    actor = Actor(user_id=user.id, session_id=pair.session_id, status=user.status, is_operator=user.is_operator)
    act_as(ctx, session, actor)
    return pair


async def sign_in(
    ctx: Context, session: AsyncSession, actor: Actor | None, *, login: str, password: str, totp_code: str | None
) -> sessions.TokenPair:
    # run with records_refusals: a failed attempt is counted (and audited) though the sign-in is refused
    pair = await sessions.sign_in(
        session,
        settings=ctx.settings,
        login=login,
        password=password,
        totp_code=totp_code,
        user_agent=ctx.user_agent,
        ip=ctx.client_ip,
    )
    return _signed_in(ctx, session, pair)


async def refresh_token(
    ctx: Context, session: AsyncSession, actor: Actor | None, *, refresh_token: str
) -> sessions.TokenPair:
    pair = await sessions.refresh(session, settings=ctx.settings, refresh_token=refresh_token)
    if pair is None:
        # a reused token: its session is revoked, and that revocation is committed with the refusal
        raise RecordedRefusal(
            DomainError(ErrorCode.TOKEN_REVOKED, "Токен уже использован; сеанс завершён", field="refreshToken")
        )
    return _signed_in(ctx, session, pair)


async def sign_out(ctx: Context, session: AsyncSession, actor: Actor, *, all_devices: bool = False) -> int:
    """How many sessions were revoked: this one, or every one of the user."""
    return await sessions.sign_out(session, actor=actor, all_devices=all_devices)


async def notifications(
    ctx: Context, *, unread: bool, first: int | None, after: str | None, last: int | None, before: str | None
) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(
        ctx,
        notification_service.inbox_query(actor, unread_only=unread),
        PageArgs(first=first, after=after, last=last, before=before),
        descending=True,
    )


async def mark_notifications_read(
    ctx: Context, session: AsyncSession, actor: Actor, *, ids: list[int] | None = None
) -> int:
    return await notification_service.mark_read(session, actor=actor, ids=ids)


def notification_received(ctx: Context) -> Feed[Notification]:
    """Each new notification of the signed-in user, as it is committed."""
    user_id = policy.require_actor(ctx.actor).user_id

    async def may_follow(scoped: Context) -> bool:
        return policy.can_view_notification(scoped.actor, user_id)

    async def read(scoped: Context, heard: Heard) -> Notification | None:
        notification_id = heard.event.get("notification_id")
        if not isinstance(notification_id, int):
            return None
        # by its recipient too (this feed's user): PostgreSQL reads that partition only
        row = await scoped.loaders.by_partition(Notification).load((user_id, notification_id))
        if row is None or not policy.can_view_notification(scoped.actor, row.user_id):
            return None
        return row if policy.shows_in_inbox(row.kind) else None

    return Feed(
        channels=[channels.user_notifications(user_id)],
        may_follow=may_follow,
        read=read,
        refused="Уведомления видит только их получатель",
    )
