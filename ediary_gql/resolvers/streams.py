"""The event stream behind a subscription: parsed events, bus failures and
revoked sessions as coded errors; and `follow`, the one runner every subscription
goes through (a `Feed` says what it follows)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.concurrency import single_flight
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.events import channels
from ediary_gql.events.bus import BusDisconnected, SubscriberOverflow, Subscription
from ediary_gql.events.types import SessionRevoked, parse

if TYPE_CHECKING:
    from ediary_gql.context import Context

R = TypeVar("R")


@dataclasses.dataclass(frozen=True, slots=True)
class Heard:
    """An event as a subscriber heard it; `ticket` was taken on arrival, so a shared read
    asked for `fresh_after=ticket` has seen the change (concurrency/single_flight.py)."""

    event: dict[str, Any]
    ticket: single_flight.Ticket


@dataclasses.dataclass(frozen=True, slots=True)
class Feed(Generic[R]):
    """What a subscription follows, for `follow` to run.

    `may_follow(context)` is asked at subscribe time and again for every event, with the
    actor's current facts and fresh loaders; once False the stream ends with FORBIDDEN
    (`refused`). `read(context, heard)` reads the object an event is about, fresh (None:
    nothing to send). `first(context, ticket)`, if given, is sent once the stream listens
    (the current state, so no change falls between it and the stream)."""

    channels: Sequence[str]
    may_follow: Callable[[Context], Awaitable[bool]]
    read: Callable[[Context, Heard], Awaitable[R | None]]
    refused: str
    first: Callable[[Context, single_flight.Ticket], Awaitable[R | None]] | None = None


# Whether the subscription run by this task listens yet. Each operation of a socket runs in
# an asyncio task of its own, and the subscription's generator runs in it: what is refused
# before it listens (no actor, no right, a bad argument) is the answer to the subscribe
# request, sent as the protocol's `error` message; an error after it ends a stream that ran
# (schema/subscriptions.refusals_as_errors).
_listening: ContextVar[bool] = ContextVar("subscription_listening", default=False)


def has_listened() -> bool:
    """True once the subscription of the running task has started listening (`follow`)."""
    return _listening.get()


async def follow(context: Context, feed: Feed[R]) -> AsyncIterator[R]:
    """The one subscription runner: authorized at subscribe time, then for each event a
    revoked session ends it (TOKEN_REVOKED), a lost right ends it (FORBIDDEN), and the
    object is read fresh, with fresh loaders for its nested fields. A dropped bus or a
    subscriber that fell behind ends it with STREAM_INTERRUPTED (`listening`)."""
    actor = policy.require_actor(context.actor)
    scoped = await event_context(context, actor)
    policy.ensure(scoped is not None and await feed.may_follow(scoped), feed.refused)
    async with _listening_all(context, feed.channels) as events:
        _listening.set(True)
        if feed.first is not None:
            assert scoped is not None  # noqa: S101 - ensured above
            item = await feed.first(scoped, single_flight.ticket())
            if item is not None:
                yield item
        async for event in events:
            heard = Heard(event, single_flight.ticket())
            await ensure_session_active(context, actor)
            scoped = await event_context(context, actor)
            if scoped is None or not await feed.may_follow(scoped):
                raise forbidden(feed.refused)
            item = await feed.read(scoped, heard)
            if item is not None:
                yield item


async def event_context(context: Context, actor: Actor) -> Context | None:
    """The connection's context renewed for one event: fresh loaders and the actor's
    current facts (wards, memberships, status), which nested fields then read too; None
    once the account is gone. Read with every other subscriber of the process asking in
    the same loop turn.

    Every subscription of a connection is its one user's, so another subscription's
    nested fields still resolving may pick up these loaders and facts: fresher, never
    someone else's (at worst a loader batch splits in two)."""
    if actor.is_system:
        current: Actor | None = actor
    else:
        found = await context.services.shared_reads.actor(actor.user_id)
        current = None if found is None else dataclasses.replace(found, session_id=actor.session_id)
    if current is None:
        return None
    context.loaders = context.fresh_loaders()
    context.set_actor(current)
    return context


@asynccontextmanager
async def _listening_all(context: Context, names: Sequence[str]) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """`listening` over one channel or several (one per school of a staff member), as one stream."""
    if len(names) == 1:
        async with listening(context, names[0]) as stream:
            yield stream
        return
    async with AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(listening(context, name)) for name in names]
        merged = _merged(streams)
        stack.push_async_callback(merged.aclose)
        yield merged


async def _merged(streams: list[AsyncIterator[dict[str, Any]]]) -> AsyncGenerator[dict[str, Any], None]:
    queue: asyncio.Queue[tuple[dict[str, Any] | None, BaseException | None]] = asyncio.Queue(maxsize=1000)

    async def pump(stream: AsyncIterator[dict[str, Any]]) -> None:
        try:
            async for event in stream:
                await queue.put((event, None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, which ends the stream with it
            await queue.put((None, exc))  # waits for room: a full queue must not lose the error
            return
        await queue.put((None, None))

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        ended = 0
        while ended < len(tasks):
            item, error = await queue.get()
            if error is not None:
                raise error
            if item is None:
                ended += 1
                continue
            yield item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


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
