"""`ediary-gql audit maintain` on a throw-away SQLite file, where the trail is one plain
table: entries older than the retention go, the others stay. (On PostgreSQL it makes and
drops monthly partitions: tests/db/test_partitioning.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.base import utcnow
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.partitioning import add_months, period_of
from tests.cli_support import cli_database

runner = CliRunner()
T = TypeVar("T")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with cli_database(tmp_path, monkeypatch, AUDIT_RETENTION_MONTHS="2") as url:
        yield url


def test_audit_maintain_deletes_what_is_older_than_the_retention(db_url: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0

    async def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        engine = create_engine(db_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    current = period_of("month", utcnow())
    # kept: this month and the two before it, whole; gone: the month before those
    ages = {"gone": -3, "kept": -2, "now": 0}

    async def arrange(session: AsyncSession) -> None:
        for action, months in ages.items():
            month = add_months(current, months)
            at = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC) + dt.timedelta(hours=1)
            session.add(AuditEntry(action=action, entity_type="User", created_at=at))

    async def kept(session: AsyncSession) -> list[str]:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())

    asyncio.run(run(arrange))
    result = runner.invoke(app, ["audit", "maintain"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 entry(ies) older than 2 month(s)." in result.output
    assert asyncio.run(run(kept)) == ["kept", "now"]
