"""Running a dispatcher as a process of its own (`ediary-gql outbox dispatch`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.services import background
from ediary_gql.services.delivery.dispatcher import Dispatcher
from ediary_gql.settings import Settings


async def run_until_signalled(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Dispatch until SIGINT or SIGTERM; then finish the round under way and return.

    With a Redis event bus the dispatcher wakes as soon as a server commits new
    deliveries; with memory:// (nothing crosses processes) it polls.
    """
    async with background.process_bus(settings, polling_only_event="delivery_dispatcher_polling_only") as bus:
        await background.run_until_signalled(Dispatcher.from_settings(settings, session_factory, bus=bus))
