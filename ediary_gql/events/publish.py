"""Publish-after-commit: services queue events on their session; the unit of
work publishes them only once the transaction has committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db import replicas
from ediary_gql.db.engine import WRITE_TRANSACTION
from ediary_gql.events import log as event_log
from ediary_gql.events.types import Event

_PENDING = "ediary.pending_events"
_BEFORE_COMMIT = "ediary.before_commit"
_AFTER_COMMIT = "ediary.after_commit"
log = structlog.get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...


def queue_event(session: AsyncSession, event: Event) -> None:
    """Queue an event to be published if, and only if, this transaction commits."""
    session.info.setdefault(_PENDING, []).append(event)


def before_commit(session: AsyncSession, key: str, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` inside the transaction, just before it commits, once per `key`: for
    work that gathers a transaction's changes first (one grouped notice per person for a
    bulk change). A session committed by other means runs it at `run_before_commit`."""
    actions: dict[str, Callable[[], Awaitable[None]]] = session.info.setdefault(_BEFORE_COMMIT, {})
    actions.setdefault(key, action)


async def run_before_commit(session: AsyncSession) -> None:
    """Run the actions queued by `before_commit` (and any they queue in turn)."""
    while actions := session.info.pop(_BEFORE_COMMIT, None):
        for action in actions.values():
            await action()


def after_commit(session: AsyncSession, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` once the transaction of `session` has committed, and not at all if it
    rolls back: for what must not happen inside it (a message to an address outside the
    system, files removed from storage). Run by `unit_of_work`, in the order queued."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


async def run_after_commit(actions: list[Callable[[], Awaitable[None]]]) -> None:
    for action in actions:
        try:
            await action()
        except Exception:  # the commit stands; one failed follow-up does not stop the rest
            log.exception("after_commit_failed", action=getattr(action, "__qualname__", repr(action)))


def take_events(session: AsyncSession) -> list[Event]:
    events: list[Event] = session.info.pop(_PENDING, [])
    return events


async def publish_events(bus: Publisher, events: list[Event]) -> None:
    for index, event in enumerate(events):
        try:
            await bus.publish(event.channel, event.to_json())
        except Exception:
            # The commit stands and the events are in the log, which subscribers read again
            # once the bus is back; a bus that refused one would make each of the rest wait
            # out its own timeout, so the rest are not tried.
            log.exception(
                "event_publish_failed", channel=event.channel, kind=event.kind, skipped=len(events) - index - 1
            )
            return


@asynccontextmanager
async def unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], bus: Publisher
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed whole or rolled back whole; events after commit."""
    async with session_factory() as session:
        async with session.begin():
            await session.connection(execution_options={WRITE_TRANSACTION: True})
            yield session
            await run_before_commit(session)
            # the log is the truth: the events commit with their change, or not at all
            await event_log.append(session, session.info.get(_PENDING, []))
        events = take_events(session)
        follow_ups: list[Callable[[], Awaitable[None]]] = session.info.pop(_AFTER_COMMIT, [])
    await publish_events(bus, events)
    await run_after_commit(follow_ups)
    await replicas.note_commit()  # with read replicas: the writer's next reads see this commit
