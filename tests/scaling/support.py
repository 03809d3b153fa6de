"""The app on the test's own servers: settings, migrations, a live uvicorn, a session to arrange data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.settings import Settings, load_settings
from tests.support import served


def app_settings(root: Path, database_url: str, **overrides: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        broadcast_url="memory://",
        broadcast_namespace=f"test-{uuid.uuid4().hex[:12]}:",
        secret_key="test-secret-key-not-for-production",
        upload_dir=root / "uploads",
        log_level="WARNING",
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        dispatcher_enabled=False,
        reminders_enabled=False,
        reports_worker_enabled=False,
        webhooks_sender_enabled=False,
        event_poll_seconds=30,
        **overrides,
    )


async def migrate(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


@dataclass(frozen=True)
class LiveApp:
    url: str
    app: Starlette

    @property
    def services(self) -> AppServices:
        services: AppServices = self.app.state.services
        return services


@asynccontextmanager
async def live_app(settings: Settings) -> AsyncIterator[LiveApp]:
    """The app served by uvicorn in this event loop."""
    app = create_app(settings)
    async with served(app) as url:
        yield LiveApp(url, app)


@asynccontextmanager
async def arranging(url: str) -> AsyncIterator[AsyncSession]:
    """A session straight on the database at `url`, to arrange data (commit it)."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()
