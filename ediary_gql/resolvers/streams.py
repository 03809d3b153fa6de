"""The event stream behind a subscription: parsed events, bus failures and
revoked sessions as coded errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.events.bus import BusDisconnected, SubscriberOverflow, Subscription
from ediary_gql.events.types import SessionRevoked, parse
from ediary_gql.services import sessions

if TYPE_CHECKING:
    from ediary_gql.auth.actor import Actor
    from ediary_gql.context import Context


async def events(context: Context, channel: str) -> AsyncIterator[dict[str, Any]]:
    """Decoded events of `channel`, for as long as the actor's session lasts.

    When the bus drops or this client falls behind, the stream ends with
    STREAM_INTERRUPTED: the client re-subscribes and re-reads. When the actor's
    session is revoked (sign-out, sign-out everywhere, a password reset, a
    reused refresh token), the stream ends at once with TOKEN_REVOKED, whether
    or not `channel` has anything more to say."""
    actor = context.actor
    bus = context.services.bus
    try:
        if actor is None or actor.session_id is None:
            async with bus.subscribe(channel) as subscription:
                async for message in subscription:
                    event = parse(message)
                    if event:
                        yield event
            return
        # listen for the revocation first, then check the session: no sign-out falls in between
        async with (
            bus.subscribe(channels.user_sessions(actor.user_id)) as revocations,
            bus.subscribe(channel) as subscription,
        ):
            await ensure_session_active(context, actor)
            revoked = asyncio.create_task(_revocation(revocations, actor.session_id))
            try:
                while True:
                    try:
                        message = await _next_unless_revoked(subscription, revoked)
                    except StopAsyncIteration:
                        return
                    event = parse(message)
                    if event:
                        yield event
            finally:
                revoked.cancel()
                if revoked.done() and not revoked.cancelled():
                    revoked.exception()  # retrieved: it has been reported already, or is moot
    except BusDisconnected:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Поток событий прерван: подпишитесь снова и обновите данные"
        ) from None
    except SubscriberOverflow:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Клиент не успевает получать события: подпишитесь снова"
        ) from None


async def _revocation(revocations: Subscription, session_id: int) -> None:
    """Returns once the revocation of `session_id`, or of every session of the user, is heard."""
    async for message in revocations:
        event = parse(message)
        if event.get("kind") == SessionRevoked.kind and event.get("session_id") in (None, session_id):
            return
    raise BusDisconnected("the revocation channel was closed")


async def _next_unless_revoked(subscription: Subscription, revoked: asyncio.Task[None]) -> str:
    """The next message of `subscription`; TOKEN_REVOKED as soon as `revoked` is done, even while waiting."""
    following = asyncio.ensure_future(anext(subscription))
    try:
        await asyncio.wait((following, revoked), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not following.done():
            following.cancel()
    if revoked.done():
        if following.done() and not following.cancelled():
            following.exception()  # a message or error that no longer matters
        revoked.result()  # a bus failure of the watch ends the stream as interrupted
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
    return following.result()


async def ensure_session_active(context: Context, actor: Actor) -> None:
    """Checked per event: a signed-out session hears nothing more."""
    if actor.session_id is None:
        return
    async with context.session_factory() as session:
        if not await sessions.is_session_active(session, actor.session_id):
            raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
