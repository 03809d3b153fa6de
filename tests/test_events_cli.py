"""`ediary-gql events prune` on a throw-away SQLite file: old events go, recent ones stay."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.base import utcnow
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.event_log import EventRecord
from tests.cli_support import cli_database

runner = CliRunner()
T = TypeVar("T")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with cli_database(tmp_path, monkeypatch, EVENT_RETENTION_DAYS="7") as url:
        yield url


def test_events_prune_drops_what_is_older_than_the_retention(db_url: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0

    async def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        engine = create_engine(db_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    async def arrange(session: AsyncSession) -> None:
        ages = {"old": 8, "recent": 1}
        await session.execute(
            insert(EventRecord),
            [{"channel": name, "kind": "test", "payload": {}, "created_at": utcnow() - dt.timedelta(days=days)}
             for name, days in ages.items()],
        )  # fmt: skip

    async def kept(session: AsyncSession) -> list[tuple[str, int | None]]:
        return list((await session.execute(select(EventRecord.channel, EventRecord.position))).all())

    asyncio.run(run(arrange))
    result = runner.invoke(app, ["events", "prune"])
    assert result.exit_code == 0, result.output
    assert "Pruned 1 event(s)" in result.output
    # the recent one stays, and got its position on the way
    assert asyncio.run(run(kept)) == [("recent", 2)]
