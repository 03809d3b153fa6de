"""Shared fixtures: one live server per test session on the configured backends,
a clean database for every test, real HTTP and WebSocket clients.

Backends come from DATABASE_URL and BROADCAST_URL, as for the server; with
neither set, a throw-away SQLite file and the in-process bus are used.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.base import Base
from ediary_gql.db.engine import create_engine
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.event_log import EventLogHead
from ediary_gql.settings import Settings, load_settings
from tests.support import GraphQLClient, StatementCounter, served

# the local OpenID provider and our server signing in with it (tests/test_oidc_*.py, graphql/test_identities.py)
pytest_plugins = ["tests.oidc_provider"]

# Rows that migrations put in place and tests must keep.
REFERENCE_TABLES = frozenset({"alembic_version", "regions", "settlements", "calendar_overrides"})


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ediary-test-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def settings(tmp_root: Path) -> Settings:
    url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_root / 'test.db'}"
    return load_settings(
        database_url=url,
        broadcast_url=os.environ.get("BROADCAST_URL") or "memory://",
        # test runs sharing one Redis must not hear each other's events
        broadcast_namespace=f"test-{uuid.uuid4().hex[:12]}:",
        secret_key="test-secret-key-not-for-production",
        upload_dir=tmp_root / "uploads",
        # LOG_SCAN_FILE=<file>: every line at DEBUG, as JSON, also goes there for tests/log_scan.py
        log_level="DEBUG" if os.environ.get("LOG_SCAN_FILE") else "WARNING",
        log_json=bool(os.environ.get("LOG_SCAN_FILE")),
        # cheap hashing keeps the suite fast; production keeps the default costs
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        # deliveries stay PENDING unless a test dispatches them (tests/services/test_delivery.py)
        dispatcher_enabled=False,
        # reminders are sent when a test runs the scheduler (tests/services/test_reminders.py)
        reminders_enabled=False,
        # reports are made when a test runs a worker (tests/services/reports/test_worker.py)
        reports_worker_enabled=False,
        # webhooks are relayed and sent when a test runs a sender (tests/changes_support.sender)
        webhooks_sender_enabled=False,
        # subscribers are woken by the bus; the log tail's safety poll stays out of the
        # statement counts (the fault tests' own server processes poll every second)
        event_poll_seconds=30,
    )


@pytest.fixture(scope="session")
def is_postgres(settings: Settings) -> bool:
    return not settings.is_sqlite


async def _reset_schema(settings: Settings) -> None:
    """Start every test session from an empty database, so migrations run in full."""
    if settings.is_sqlite:
        return
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@dataclass(frozen=True)
class ReferenceBaseline:
    """The reference rows the migrations and the directory load put in place; rows
    a test adds beyond them (a made-up town, an override) are removed after it."""

    region_codes: frozenset[str]
    max_settlement_id: int
    max_override_id: int


async def _load_directory(settings: Settings) -> ReferenceBaseline:
    """Regions and settlements: reference rows the per-test cleanup keeps."""
    from ediary_gql.db.engine import create_session_factory
    from ediary_gql.db.models.calendar import CalendarOverride
    from ediary_gql.db.models.geo import Region, Settlement
    from ediary_gql.services.directory import load_directory

    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session, session.begin():
        await load_directory(session)
        baseline = ReferenceBaseline(
            region_codes=frozenset((await session.scalars(select(Region.code))).all()),
            max_settlement_id=int(await session.scalar(select(func.coalesce(func.max(Settlement.id), 0))) or 0),
            max_override_id=int(await session.scalar(select(func.coalesce(func.max(CalendarOverride.id), 0))) or 0),
        )
    await engine.dispose()
    return baseline


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Starlette
    baseline: ReferenceBaseline

    @property
    def services(self) -> AppServices:
        services: AppServices = self.app.state.services
        return services


@pytest_asyncio.fixture(scope="session")
async def live(settings: Settings) -> AsyncIterator[LiveServer]:
    """A live uvicorn server in this event loop, on a free port."""
    await _reset_schema(settings)
    await asyncio.to_thread(upgrade, settings.database_url)
    baseline = await _load_directory(settings)
    app = create_app(settings)
    async with served(app, ws="websockets-sansio") as url:
        yield LiveServer(url=url, app=app, baseline=baseline)


@pytest.fixture(scope="session")
def server(live: LiveServer) -> str:
    return live.url


@pytest.fixture(scope="session")
def app_services(live: LiveServer) -> AppServices:
    return live.services


@pytest.fixture(scope="session")
def ws_url(server: str) -> str:
    return server.replace("http://", "ws://")


@pytest_asyncio.fixture(autouse=True)
async def clean_db(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that uses the server starts from empty tables; the event log's head
    stays, so positions only grow, as they do in production (the server's log tail
    remembers how far it has read)."""
    if not {"live", "server", "app_services"} & set(request.fixturenames):
        yield
        return
    services: AppServices = request.getfixturevalue("app_services")
    async with services.session_factory() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES and table.name != EventLogHead.__tablename__:
                await session.execute(table.delete())
        await _remove_added_reference_rows(session, request.getfixturevalue("live").baseline)
    yield


async def _remove_added_reference_rows(session: AsyncSession, baseline: ReferenceBaseline) -> None:
    from ediary_gql.db.models.calendar import CalendarOverride
    from ediary_gql.db.models.geo import Region, Settlement

    await session.execute(delete(Settlement).where(Settlement.id > baseline.max_settlement_id))
    await session.execute(delete(CalendarOverride).where(CalendarOverride.id > baseline.max_override_id))
    await session.execute(delete(Region).where(Region.code.not_in(baseline.region_codes)))


@pytest_asyncio.fixture
async def gql(server: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as http:
        yield GraphQLClient(http)


@pytest_asyncio.fixture
async def session(app_services: AppServices) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; commit what the server should see."""
    async with app_services.session_factory() as s:
        yield s


@pytest.fixture
def sql_counter(app_services: AppServices) -> StatementCounter:
    engine = app_services.session_factory.kw["bind"]
    return StatementCounter(engine)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_redis = (os.environ.get("BROADCAST_URL") or "").startswith(("redis://", "rediss://"))
    on_postgres = (os.environ.get("DATABASE_URL") or "").startswith("postgres")
    for item in items:
        if "redis_only" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs BROADCAST_URL=redis://…"))
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgresql+asyncpg://…"))
