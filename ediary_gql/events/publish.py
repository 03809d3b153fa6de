"""Publish-after-commit: services queue events on their session; the unit of
work publishes them only once the transaction has committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.engine import WRITE_TRANSACTION
from ediary_gql.events import log as event_log
from ediary_gql.events.types import Event

_PENDING = "ediary.pending_events"
_BEFORE_COMMIT = "ediary.before_commit"
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


def take_events(session: AsyncSession) -> list[Event]:
    events: list[Event] = session.info.pop(_PENDING, [])
    return events


async def publish_events(bus: Publisher, events: list[Event]) -> None:
    for event in events:
        try:
            await bus.publish(event.channel, event.to_json())
        except Exception:  # the commit stands; subscribers re-read state on reconnect
            log.exception("event_publish_failed", channel=event.channel, kind=event.kind)


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
    await publish_events(bus, events)
