"""Migrations build exactly the models' schema, and go down and up again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from ediary_gql.db import models  # noqa: F401 - the whole metadata
from ediary_gql.db.base import Base
from ediary_gql.db.engine import create_engine
from ediary_gql.db.migrate import downgrade, upgrade
from ediary_gql.settings import Settings


@pytest_asyncio.fixture
async def scratch_url(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on the configured backend."""
    if settings.is_sqlite:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(str(make_url(settings.database_url).set(database="postgres")))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_matches_the_models_and_round_trips(scratch_url: str) -> None:
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        await asyncio.to_thread(downgrade, scratch_url, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
            assert set(tables) <= {"alembic_version"}
        await asyncio.to_thread(upgrade, scratch_url)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
