"""Alembic environment: async engines, both backends, batch mode for SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from ediary_gql.db import models  # noqa: F401 - registers every table on the metadata
from ediary_gql.db.base import Base
from ediary_gql.db.engine import create_engine
from ediary_gql.db.migrate import MIGRATION_LOCK_KEY
from ediary_gql.db.partitioning import include_name, include_object

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if connection.dialect.name == "postgresql":
        # Several replicas start (and migrate) at once: one migrates, the others wait here
        # and then find the database at head. Held until this transaction commits.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename): with foreign keys on, SQLite
        # would empty the old table first, cascading to (or refused by) the rows that
        # refer to it. Off for the migration (outside any transaction, or it is ignored),
        # and every reference checked once it is done.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_name=include_name,  # partitions are not tables of the models
        include_object=include_object(connection.dialect.name),  # nor one backend's indexes on the other
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


url = config.get_main_option("sqlalchemy.url") or ""
if context.is_offline_mode():
    run_offline(url)
else:
    asyncio.run(_run_async(url))
