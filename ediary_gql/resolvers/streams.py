"""The one runner every subscription goes through (`follow`; a `Feed` says what it
follows): authorized at subscribe time and again for every event, each event read fresh,
each delivered with the cursor to resume from; a resumed stream first replays what the
client missed, from the event log, then goes live from the process's log tail
(events/tail.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.concurrency import single_flight
from ediary_gql.db import replicas
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.events import channels, cursors
from ediary_gql.events import log as event_log
from ediary_gql.events.log import LoggedEvent
from ediary_gql.events.tail import LogRewound, SubscriberTooSlow, Tap
from ediary_gql.events.types import SessionRevoked

if TYPE_CHECKING:
    from ediary_gql.context import Context

R = TypeVar("R")
log = structlog.get_logger(__name__)
REPLAY_BATCH = 500
REPLAY_READS = 50  # events read side by side: their loaders batch, the pool is not drained
# Subscriptions set up in the same moment share their row loaders (a burst of thousands
# reads the child or class once), for so short a time that no right ended meanwhile.
SETTING_UP = "setup"
SETTING_UP_MAX_AGE = 0.05


@dataclasses.dataclass(frozen=True, slots=True)
class Heard:
    """An event as a subscriber heard it; `ticket` was taken on arrival, so a shared read
    asked for `fresh_after=ticket` has seen the change (concurrency/single_flight.py)."""

    event: dict[str, Any]
    ticket: single_flight.Ticket
    position: int = 0
    occurred_at: dt.datetime | None = None  # when it was logged (its transaction's commit)

    @classmethod
    def of(cls, logged: LoggedEvent) -> Heard:
        return cls({"kind": logged.kind, **logged.payload}, single_flight.ticket(), logged.position, logged.created_at)


@dataclasses.dataclass(frozen=True, slots=True)
class Feed(Generic[R]):
    """What a subscription follows, for `follow` to run.

    `may_follow(context)` is asked at subscribe time and again for every event, with the
    actor's current facts and fresh loaders; once False the stream ends with FORBIDDEN
    (`refused`). `read(context, heard)` reads the object an event is about, fresh (None:
    nothing to send). `first(context, ticket)`, if given, is sent once the stream listens
    (the current state, so no change falls between it and the stream): such a feed is a
    state, not a history, so a resumed one sends the state once if anything changed while
    the client was away, not once per missed event."""

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


@dataclasses.dataclass(frozen=True, slots=True)
class Delivered(Generic[R]):
    """An item of a stream and the cursor to resume after it."""

    item: R
    cursor: str
    # a live event's (position, viewer): subscriptions with the same one and the same
    # operation get the same response (schema/event_results.py); None for the rest
    shared_as: Hashable | None = None


async def follow(context: Context, feed: Feed[R], *, after: str | None = None) -> AsyncIterator[Delivered[R]]:
    """The one subscription runner: authorized at subscribe time; then, for each event, a
    revoked session ends it (TOKEN_REVOKED), a lost right ends it (FORBIDDEN), and the
    object is read fresh, with fresh loaders for its nested fields. With `after` (a cursor)
    the events since it are replayed first, each authorized again, then it goes on live;
    a cursor the log no longer covers ends it with CURSOR_EXPIRED, and a client that falls
    behind the live buffer with SUBSCRIBER_TOO_SLOW and the cursor it reached."""
    actor = policy.require_actor(context.actor)
    replicas.read_from_primary()  # events tell of others' commits: read after them, not a replica's past
    resume_at = None if after is None else cursors.decode(after)
    scoped = await event_context(context, actor, rows=SETTING_UP, max_age=SETTING_UP_MAX_AGE)
    policy.ensure(scoped is not None and await feed.may_follow(scoped), feed.refused)
    watched = [*feed.channels]
    if actor.session_id is not None:  # a sign-out ends the stream even when the feed is quiet
        watched.append(channels.user_sessions(actor.user_id))
    async with context.services.tail.tap(watched) as tap:
        await ensure_session_active(context, actor)  # listening already: no sign-out falls between
        _listening.set(True)
        live_from = tap.position
        reached = cursors.encode(live_from if resume_at is None else resume_at)
        try:
            if resume_at is not None:
                live_from = await _resume_point(context, resume_at, live_from)
                tap.position = live_from
                async for delivered in _replay(context, actor, feed, after=resume_at, up_to=live_from):
                    reached = delivered.cursor
                    yield delivered
            elif feed.first is not None:
                assert scoped is not None  # noqa: S101 - ensured above
                item = await feed.first(scoped, single_flight.ticket())
                if item is not None:
                    yield Delivered(item, reached)
            while True:
                logged = await _next(tap)
                item = await _read_one(context, actor, feed, logged)
                reached = cursors.encode(logged.position)
                if item is not None:
                    yield Delivered(item, reached, (logged.position, actor.user_id))
        except DBAPIError:
            # the database went away under this stream (a restart, a failover): nothing is
            # lost, the log keeps it; the client resumes from where it got to
            log.warning("stream_interrupted_by_database", exc_info=True)
            raise DomainError(
                ErrorCode.STREAM_INTERRUPTED,
                "Поток событий прерван: продолжите с курсора",
                extra={"cursor": reached},
            ) from None


async def _next(tap: Tap) -> LoggedEvent:
    try:
        return await tap.next()
    except LogRewound:
        raise cursors.expired() from None
    except SubscriberTooSlow as slow:
        cursor = cursors.encode(slow.position)
        raise DomainError(
            ErrorCode.SUBSCRIBER_TOO_SLOW,
            "Клиент не успевает получать события: продолжите с курсора",
            extra={"cursor": cursor},
        ) from None


async def _resume_point(context: Context, after: int, live_from: int) -> int:
    """Where the live part starts for a client that has seen `after`: the tail's tip, or
    `after` itself if this process has not read that far yet. A cursor below what the log
    keeps, or beyond its end (another database's), is refused."""
    factory = context.session_factory
    end = live_from if after <= live_from else await event_log.head(factory)
    if not await event_log.covers(factory, after, end=end):
        raise cursors.expired()
    return max(after, live_from)


async def _replay(
    context: Context, actor: Actor, feed: Feed[R], *, after: int, up_to: int
) -> AsyncIterator[Delivered[R]]:
    """The feed's events in (after, up_to], from the log, a batch at a time: the session
    and the right checked once per batch, its events read side by side (one statement
    per kind of row for the whole batch); a state feed's state once at the end."""
    position = after
    last_relevant: LoggedEvent | None = None
    while position < up_to:
        batch = await event_log.read_after(
            context.session_factory,
            after=position,
            limit=REPLAY_BATCH,
            channels=feed.channels,
            up_to=up_to,
            place_first=False,
        )
        if not batch:
            break
        position = batch[-1].position
        if feed.first is not None:
            last_relevant = batch[-1]
            continue
        oldest = await event_log.oldest_position(context.session_factory)
        if oldest is None or oldest > batch[0].position:  # pruned while we replayed
            raise cursors.expired()
        scoped = await _checked(context, actor, feed, rows=None)
        for start in range(0, len(batch), REPLAY_READS):
            chunk = batch[start : start + REPLAY_READS]
            items = await asyncio.gather(*(feed.read(scoped, Heard.of(logged)) for logged in chunk))
            for logged, item in zip(chunk, items, strict=True):
                if item is not None:
                    yield Delivered(item, cursors.encode(logged.position))
    if feed.first is not None and last_relevant is not None:
        item = await _read_one(context, actor, feed, last_relevant)
        if item is not None:
            yield Delivered(item, cursors.encode(up_to))


async def _checked(context: Context, actor: Actor, feed: Feed[R], *, rows: Hashable | None) -> Context:
    """The context for reading events, once the session is still on and the right still held."""
    await ensure_session_active(context, actor)
    scoped = await event_context(context, actor, rows=rows)
    if scoped is None or not await feed.may_follow(scoped):
        raise forbidden(feed.refused)
    return scoped


async def _read_one(context: Context, actor: Actor, feed: Feed[R], logged: LoggedEvent) -> R | None:
    """One event for one subscriber: the session, then the right, then the object."""
    heard = Heard.of(logged)
    if logged.kind == SessionRevoked.kind:
        if logged.channel == channels.user_sessions(actor.user_id) and heard.event.get("session_id") in (
            None,
            actor.session_id,
        ):
            raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
        if logged.channel not in feed.channels:
            return None
    scoped = await _checked(context, actor, feed, rows=logged.position)
    return await feed.read(scoped, heard)


async def event_context(
    context: Context, actor: Actor, *, rows: Hashable | None = None, max_age: float = 1.0
) -> Context | None:
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
        if current is not None and actor.is_integration:
            # an integration's facts are its token's (its session ends with it: ensure_session_active)
            current = dataclasses.replace(
                current,
                integration_id=actor.integration_id,
                integration_school_id=actor.integration_school_id,
                scopes=actor.scopes,
            )
    if current is None:
        return None
    context.loaders = context.fresh_loaders(rows, max_age=max_age)
    context.set_actor(current)
    return context


async def ensure_session_active(context: Context, actor: Actor) -> None:
    """Checked per event: a signed-out session hears nothing more. Read now, in one
    statement with every other subscriber of the process asking in the same loop turn."""
    if actor.session_id is None:
        return
    if not await context.services.shared_reads.session_active(actor.session_id):
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
