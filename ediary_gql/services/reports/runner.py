"""Running a report worker as a process of its own (`ediary-gql reports work`)."""

from __future__ import annotations

import contextlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.events.bus import EventBus
from ediary_gql.services import background
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings


def _bus(settings: Settings) -> contextlib.AbstractAsyncContextManager[EventBus | None]:
    """The event bus across processes (Redis), or None with memory:// or Redis away: the
    worker then polls, and its events reach subscribers through the log."""
    return background.process_bus(settings, polling_only_event="report_worker_polling_only")


async def run_until_signalled(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Make reports until SIGINT or SIGTERM; then finish the one under way and return.

    With a Redis event bus the worker wakes as soon as a server queues a report; with
    memory:// (nothing crosses processes) it polls every REPORT_POLL_SECONDS."""
    async with _bus(settings) as bus:
        await background.run_until_signalled(ReportWorker.from_settings(settings, session_factory, bus=bus), grace=30.0)


async def run_once(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> int:
    """Make every report due now, then return how many were finished (`reports work --once`)."""
    async with _bus(settings) as bus:
        return await ReportWorker.from_settings(settings, session_factory, bus=bus).drain()


async def expire(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> int:
    """Delete the files of expired reports now (`reports expire`); how many expired."""
    async with _bus(settings) as bus:
        worker = ReportWorker.from_settings(settings, session_factory, bus=bus)
        total = 0
        while expired := await worker.expire_once():
            total += expired
        return total
