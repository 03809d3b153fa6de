"""The partitioned parents get planner statistics (db/analyze.py): autovacuum analyzes
the partitions but never a parent, which then plans as if empty."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.context import AppServices
from ediary_gql.db.analyze import analyze_partitioned
from ediary_gql.db.base import Base
from ediary_gql.db.partitioning import partition_key
from ediary_gql.settings import Settings, get_settings
from tests.diary_support import build_school

PARENT_ROWS = text("SELECT reltuples FROM pg_class WHERE relname = 'attendances' AND relkind = 'p'")


async def test_every_partitioned_parent_is_analyzed(
    app_services: AppServices, session: AsyncSession, is_postgres: bool
) -> None:
    if not is_postgres:
        assert await analyze_partitioned(app_services.session_factory) == []  # nothing partitioned on SQLite
        return
    # given attendance marks written since the table was made (never analyzed as a whole)
    world = await build_school(session, children=3)
    marks = 3 * 5
    # when the parents are analyzed
    done = await analyze_partitioned(app_services.session_factory)
    # then each partitioned table of the models was, and the planner knows the parent's rows
    assert done == sorted(t.name for t in Base.metadata.sorted_tables if partition_key(t) is not None)
    # (a small table is sampled whole: the estimate is the count, not a stale figure)
    counted = await session.scalar(text("SELECT count(*) FROM attendances"))
    assert counted is not None
    assert counted >= marks
    assert await session.scalar(PARENT_ROWS) == counted
    assert len(world.lessons) == 10


def test_the_command_names_what_it_analyzed(
    settings: Settings, is_postgres: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "analyze"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert ("attendances" in result.output) is is_postgres, result.output
