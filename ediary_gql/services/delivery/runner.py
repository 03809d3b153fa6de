"""Running a dispatcher as a process of its own (`ediary-gql outbox dispatch`)."""

from __future__ import annotations

import asyncio
import signal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.events.bus import BusError, EventBus
from ediary_gql.services.delivery.dispatcher import Dispatcher
from ediary_gql.settings import Settings

log = structlog.get_logger(__name__)


async def run_until_signalled(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Dispatch until SIGINT or SIGTERM; then finish the round under way and return.

    With a Redis event bus the dispatcher wakes as soon as a server commits new
    deliveries; with memory:// (nothing crosses processes) it polls.
    """
    bus: EventBus | None = None
    if not settings.broadcast_url.startswith("memory"):
        bus = EventBus(
            settings.broadcast_url, queue_size=settings.subscriber_queue_size, namespace=settings.broadcast_namespace
        )
        try:
            await bus.connect()
        except BusError as exc:
            log.warning("delivery_dispatcher_polling_only", error=str(exc))
            bus = None
    dispatcher = Dispatcher.from_settings(settings, session_factory, bus=bus)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        dispatcher.start()
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await dispatcher.stop()
        if bus is not None:
            await bus.disconnect()
