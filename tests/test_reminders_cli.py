"""`ediary-gql reminders run` on a throw-away SQLite file: sends what is due, once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import FeedbackStatus
from tests.cli_support import cli_database
from tests.factories import make_feedback_ticket, make_operator

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # No quiet hours, so the test does not depend on the time of day it runs at.
    with cli_database(tmp_path, monkeypatch, REMINDER_QUIET_HOURS="00:00-00:00") as url:
        yield url


def test_reminders_run_sends_an_overdue_ticket_once(db_url: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0

    async def arrange() -> None:
        engine = create_engine(db_url)
        async with create_session_factory(engine)() as session:
            await make_operator(session)
            await make_feedback_ticket(
                session,
                status=FeedbackStatus.OPEN,
                answer_due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(arrange())
    first = runner.invoke(app, ["reminders", "run"])
    assert first.exit_code == 0, first.output
    assert "Sent 1 reminder(s)" in first.output
    # a second cron run finds it already sent
    again = runner.invoke(app, ["reminders", "run"])
    assert again.exit_code == 0, again.output
    assert "Sent 0 reminder(s): none." in again.output
