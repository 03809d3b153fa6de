"""Resolvers of accounts: me, sign-in and sign-out, the notification inbox."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.notifications import Notification as NotificationRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.errors import DomainError, ErrorCode, retry_after_seconds
from ediary_gql.events import channels
from ediary_gql.resolvers import streams
from ediary_gql.resolvers.transaction import recording_transaction, transaction
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.errors import input_errors, user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.auth import (
    AuthPayload,
    MarkNotificationsReadInput,
    MarkNotificationsReadPayload,
    RefreshTokenInput,
    SignInInput,
    SignOutInput,
    SignOutPayload,
)
from ediary_gql.schema.types.notification import Notification
from ediary_gql.schema.types.user import User
from ediary_gql.services import notifications as notification_service
from ediary_gql.services import sessions

Info = strawberry.Info[Context, None]


async def me(info: Info) -> User | None:
    actor = info.context.actor
    if actor is None:
        return None
    row = await info.context.loaders.by_id(UserRow).load(actor.user_id)
    return User.from_row(row) if row else None


def _auth_payload(context: Context, pair: sessions.TokenPair) -> AuthPayload:
    # the rest of this response is read as the person who just signed in
    user = pair.user
    context.set_actor(
        Actor(user_id=user.id, session_id=pair.session_id, status=user.status, is_operator=user.is_operator)
    )
    return AuthPayload(
        access_token=pair.access_token,
        access_token_expires_at=pair.access_expires_at,
        refresh_token=pair.refresh_token,
        refresh_token_expires_at=pair.refresh_expires_at,
        user=User.from_row(pair.user),
    )


async def sign_in(info: Info, input: SignInInput) -> AuthPayload:
    ctx = info.context
    try:
        # a failed attempt is counted (and audited) even though the sign-in is refused
        async with recording_transaction(ctx) as session:
            pair = await sessions.sign_in(
                session,
                settings=ctx.settings,
                login=input.login,
                password=input.password,
                totp_code=input.totp_code,
                user_agent=ctx.user_agent,
                ip=ctx.client_ip,
            )
    except DomainError as exc:
        return AuthPayload(user_errors=input_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    return _auth_payload(ctx, pair)


async def refresh_token(info: Info, input: RefreshTokenInput) -> AuthPayload:
    ctx = info.context
    try:
        async with transaction(ctx) as session:
            pair = await sessions.refresh(session, settings=ctx.settings, refresh_token=input.refresh_token)
    except DomainError as exc:
        return AuthPayload(user_errors=input_errors(exc))
    if pair is None:
        reused = DomainError(ErrorCode.TOKEN_REVOKED, "Токен уже использован; сеанс завершён", field="refreshToken")
        return AuthPayload(user_errors=input_errors(reused))
    return _auth_payload(ctx, pair)


async def sign_out(info: Info, input: SignOutInput | None = None) -> SignOutPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    async with transaction(ctx) as session:
        revoked = await sessions.sign_out(session, actor=actor, all_devices=bool(input and input.all_devices))
    return SignOutPayload(revoked_sessions=revoked)


async def notifications(
    info: Info,
    unread: bool = False,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Notification]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            notification_service.inbox_query(actor, unread_only=unread),
            key=[NotificationRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after, last=last, before=before),
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )
    return to_connection(page, Notification.from_row)


async def mark_notifications_read(info: Info, input: MarkNotificationsReadInput) -> MarkNotificationsReadPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = None if input.ids is None else [pk_of(g, "Notification", field="ids") for g in input.ids]
        async with transaction(ctx) as session:
            marked = await notification_service.mark_read(session, actor=actor, ids=ids)
    except DomainError as exc:
        return MarkNotificationsReadPayload(user_errors=user_errors(exc))
    return MarkNotificationsReadPayload(marked=marked)


async def notification_received(info: Info) -> AsyncGenerator[Notification, None]:
    """Each new notification of the signed-in user, as it is committed."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    async for event in streams.events(ctx, channels.user_notifications(actor.user_id)):
        notification_id = event.get("notification_id")
        if not isinstance(notification_id, int):
            continue
        await streams.ensure_session_active(ctx, actor)
        loaders = ctx.fresh_loaders()  # never serve rows cached earlier on this connection
        row = await loaders.by_id(NotificationRow).load(notification_id)
        if row is not None and policy.can_view_notification(actor, row.user_id) and policy.shows_in_inbox(row.kind):
            yield Notification.from_row(row)
