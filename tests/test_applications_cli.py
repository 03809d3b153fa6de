"""`ediary-gql applications remind-overdue` on a throw-away SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import ApplicationStatus
from ediary_gql.db.models.notifications import Notification
from tests.cli_support import cli_database
from tests.factories import make_application, make_school, make_school_admin

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with cli_database(tmp_path, monkeypatch) as url:
        yield url


def test_remind_overdue_tells_the_school_admins(db_url: str) -> None:
    # given a migrated database with one overdue application and one on time
    assert runner.invoke(app, ["migrate"]).exit_code == 0

    async def arrange() -> int:
        engine = create_engine(db_url)
        async with create_session_factory(engine)() as session:
            school = await make_school(session)
            admin = await make_school_admin(session, school_id=school.id)
            today = dt.date.today()
            for due in (today - dt.timedelta(days=2), today + dt.timedelta(days=2)):
                await make_application(session, school_id=school.id, status=ApplicationStatus.SUBMITTED, due_on=due)
            await session.commit()
        await engine.dispose()
        return admin.id

    admin_id = asyncio.run(arrange())
    # when the daily job runs
    result = runner.invoke(app, ["applications", "remind-overdue"])
    # then the admin has one reminder naming the overdue application
    assert result.exit_code == 0, result.output
    assert "Sent 1 overdue reminder" in result.output

    async def inbox() -> list[str]:
        engine = create_engine(db_url)
        async with create_session_factory(engine)() as session:
            rows = await session.scalars(select(Notification.body).where(Notification.user_id == admin_id))
            bodies = list(rows)
        await engine.dispose()
        return bodies

    [body] = asyncio.run(inbox())
    assert body.count("ED-") == 1
