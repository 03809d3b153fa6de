"""Running a webhook sender as a process of its own (`ediary-gql webhooks send`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.services import background
from ediary_gql.services.delivery.dispatcher import DispatchReport
from ediary_gql.services.webhooks.sender import WebhookSender
from ediary_gql.settings import Settings


async def run_once(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> DispatchReport:
    """Relay what has committed and send what is due now, then return."""
    sender = WebhookSender.from_settings(settings, session_factory)
    try:
        return await sender.drain()
    finally:
        await sender.close()


async def run_until_signalled(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Relay and send until SIGINT or SIGTERM; then finish the round under way and return.
    With a Redis event bus the sender wakes as soon as any server commits changes; with
    memory:// (nothing crosses processes) it polls."""
    async with background.process_bus(settings, polling_only_event="webhook_sender_polling_only") as bus:
        await background.run_until_signalled(WebhookSender.from_settings(settings, session_factory, bus=bus))
