"""Keeping the event log to its retention: `prune_expired` (the `ediary-gql events prune`
job) and `Pruner`, the same run periodically by every server process (any number may:
a prune drops a prefix in one transaction, and two at once simply find less to drop).
On PostgreSQL they also make the log's day partitions ahead (db/partitioning.py)."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.concurrency.periodic import Periodic
from ediary_gql.db.base import utcnow
from ediary_gql.events import log as event_log

log = structlog.get_logger(__name__)


async def prune_expired(session_factory: async_sessionmaker[AsyncSession], *, retention_days: float) -> int:
    """Drop the events older than the retention, then make the days ahead; returns how many
    events were dropped."""
    now = utcnow()
    pruned = await event_log.prune(session_factory, older_than=now - dt.timedelta(days=retention_days))
    try:
        async with session_factory() as session, session.begin():
            conn = await session.connection()
            made = await conn.run_sync(lambda sync: event_log.make_days_ahead(sync, now=now))
    except DBAPIError as error:
        # behind a long transaction: the days are made ahead, so the next round has time
        if getattr(error.orig, "sqlstate", None) != event_log.LOCK_NOT_AVAILABLE:
            raise
        log.warning("event_log_days_not_made", reason="lock timeout")
    else:
        if made:
            log.info("event_log_days_made", made=made)
    return pruned


class Pruner(Periodic):
    """`prune_expired` every `interval_seconds` in this process (the first after one interval)."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, retention_days: float, interval_seconds: float
    ) -> None:
        async def prune() -> None:
            pruned = await prune_expired(session_factory, retention_days=retention_days)
            if pruned:
                log.info("event_log_pruned", events=pruned)

        super().__init__(
            prune, name="event-log-pruner", interval_seconds=interval_seconds, failed_event="event_prune_failed"
        )
