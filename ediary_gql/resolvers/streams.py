"""The event stream behind a subscription: parsed events, bus failures and
revoked sessions as coded errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.events.bus import BusDisconnected, SubscriberOverflow, Subscription
from ediary_gql.events.types import SessionRevoked, parse

if TYPE_CHECKING:
    from ediary_gql.auth.actor import Actor
    from ediary_gql.context import Context


@asynccontextmanager
async def listening(context: Context, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """`async with listening(context, channel) as events`: decoded events of `channel`,
    for as long as the actor's session lasts.

    Entered once it listens: every event published from then on is heard, so a
    subscription that shows the current state first reads it inside the block.
    When the bus drops or this client falls behind, the stream ends with
    STREAM_INTERRUPTED: the client re-subscribes and re-reads. When the actor's
    session is revoked (sign-out, sign-out everywhere, a password reset, a
    reused refresh token), the stream ends at once with TOKEN_REVOKED, whether
    or not `channel` has anything more to say."""
    actor = context.actor
    bus = context.services.bus
    async with AsyncExitStack() as stack:
        revoked: asyncio.Task[None] | None = None
        with _bus_errors():
            if actor is None or actor.session_id is None:
                subscription = await stack.enter_async_context(bus.subscribe(channel))
            else:
                # listen for the revocation first, then check the session: no sign-out falls in between
                revocations = await stack.enter_async_context(bus.subscribe(channels.user_sessions(actor.user_id)))
                subscription = await stack.enter_async_context(bus.subscribe(channel))
                await ensure_session_active(context, actor)
                revoked = asyncio.create_task(_revocation(revocations, actor.session_id))
                stack.callback(_stop_watching, revoked)
        stream = _decoded(subscription, revoked)
        stack.push_async_callback(stream.aclose)
        yield stream


async def events(context: Context, channel: str) -> AsyncIterator[dict[str, Any]]:
    """The events of `listening`, for a subscription that reads nothing before them."""
    async with listening(context, channel) as stream:
        async for event in stream:
            yield event


@contextmanager
def _bus_errors() -> Iterator[None]:
    try:
        yield
    except BusDisconnected:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Поток событий прерван: подпишитесь снова и обновите данные"
        ) from None
    except SubscriberOverflow:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Клиент не успевает получать события: подпишитесь снова"
        ) from None


async def _decoded(
    subscription: Subscription, revoked: asyncio.Task[None] | None
) -> AsyncGenerator[dict[str, Any], None]:
    with _bus_errors():
        while True:
            try:
                if revoked is None:
                    message = await anext(subscription)
                else:
                    message = await _next_unless_revoked(subscription, revoked)
            except StopAsyncIteration:
                return
            event = parse(message)
            if event:
                yield event


def _stop_watching(revoked: asyncio.Task[None]) -> None:
    revoked.cancel()
    if revoked.done() and not revoked.cancelled():
        revoked.exception()  # retrieved: it has been reported already, or is moot


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
    """Checked per event: a signed-out session hears nothing more. Read now, in one
    statement with every other subscriber of the process asking in the same loop turn."""
    if actor.session_id is None:
        return
    if not await context.services.shared_reads.session_active(actor.session_id):
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
