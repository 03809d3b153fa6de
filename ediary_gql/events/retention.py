"""Keeping the event log to its retention: `prune_expired` (the `ediary-gql events prune`
job) and `Pruner`, the same run periodically by every server process (any number may:
a prune drops a prefix in one transaction, and two at once simply find less to drop).
On PostgreSQL they also make the log's day partitions ahead (db/partitioning.py)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


class Pruner:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, retention_days: float, interval_seconds: float
    ) -> None:
        self._session_factory = session_factory
        self._retention_days = retention_days
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._interval > 0:
            self._task = asyncio.create_task(self._run(), name="event-log-pruner")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                pruned = await prune_expired(self._session_factory, retention_days=self._retention_days)
            except Exception:  # the database is away: the next round tries again
                log.warning("event_prune_failed", exc_info=True)
                continue
            if pruned:
                log.info("event_log_pruned", events=pruned)
