"""A job every server process runs on a timer (the event log's pruning, the audit trail's
partitions): a task of the event loop, started and stopped with the app. A failed round
(the database away) is logged and the next one tries again; the job itself must be safe
to run in any number of processes at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Periodic:
    """`job()` every `interval_seconds` (never, at 0), the first one at once if
    `at_start`; a failure is logged as `failed_event` and waits for the next round."""

    def __init__(
        self,
        job: Callable[[], Awaitable[None]],
        *,
        name: str,
        interval_seconds: float,
        failed_event: str,
        at_start: bool = False,
    ) -> None:
        self._job = job
        self._name = name
        self._interval = interval_seconds
        self._failed_event = failed_event
        self._at_start = at_start
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._interval > 0:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        if not self._at_start:
            await asyncio.sleep(self._interval)
        while True:
            try:
                await self._job()
            except Exception:  # the database is away: the next round tries again
                log.warning(self._failed_event, exc_info=True)
            await asyncio.sleep(self._interval)
