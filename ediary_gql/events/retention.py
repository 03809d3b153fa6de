"""Keeping the event log to its retention: `prune_expired` (the `ediary-gql events prune`
job) and `Pruner`, the same run periodically by every server process (any number may:
a prune is one DELETE of a prefix, and two at once simply find less to drop)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.base import utcnow
from ediary_gql.events import log as event_log

log = structlog.get_logger(__name__)


async def prune_expired(session_factory: async_sessionmaker[AsyncSession], *, retention_days: float) -> int:
    """Drop the events older than the retention; returns how many."""
    return await event_log.prune(session_factory, older_than=utcnow() - dt.timedelta(days=retention_days))


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
