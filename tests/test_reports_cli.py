"""`ediary-gql reports work --once`, `reports work` until SIGTERM, and `reports expire`,
on a throw-away SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope, ReportStatus
from ediary_gql.db.models.reports import Report
from ediary_gql.events.bus import EventBus
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.reports.requests import request_report
from ediary_gql.services.sessions import load_actors
from tests.cli_support import cli_database
from tests.diary_writes_support import make_world

runner = CliRunner()


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def db_url(tmp_path: Path, uploads: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with cli_database(tmp_path, monkeypatch, UPLOAD_DIR=str(uploads), REPORT_POLL_SECONDS="0.1") as url:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        yield url


def _queue(url: str) -> int:
    """A parent's CSV report of their child, queued and committed; its id."""

    async def work() -> int:
        engine = create_engine(url)
        bus = EventBus("memory://")
        await bus.connect()
        try:
            factory = create_session_factory(engine)
            async with factory() as session:
                world = await make_world(session)
                actor = (await load_actors(session, [world.parent.id]))[world.parent.id]
            async with unit_of_work(factory, bus) as session:
                report = await request_report(
                    session,
                    actor=actor,
                    kind=ReportKind.ATTENDANCE,
                    scope=ReportScope.CHILD,
                    target_id=world.child.id,
                    period_id=world.period.id,
                    date_from=None,
                    date_to=None,
                    format=ReportFormat.CSV,
                    template_id=None,
                )
            return report.id
        finally:
            await bus.disconnect()
            await engine.dispose()

    return asyncio.run(work())


def _report(url: str, report_id: int) -> Report:
    async def work() -> Report:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                found = await session.scalar(select(Report).where(Report.id == report_id))
                assert found is not None
                return found
        finally:
            await engine.dispose()

    return asyncio.run(work())


def _files(uploads: Path) -> list[Path]:
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def test_work_once_makes_the_queued_reports_and_exits(db_url: str, uploads: Path) -> None:
    # given a queued report
    report_id = _queue(db_url)

    # when the worker runs once
    result = runner.invoke(app, ["reports", "work", "--once"])

    # then it made it, into the upload folder, and nothing is left to make
    assert result.exit_code == 0, result.output
    assert "Finished 1 report(s)." in result.output
    made = _report(db_url, report_id)
    assert made.status is ReportStatus.READY
    [stored] = _files(uploads)
    assert stored.stat().st_size == made.byte_size
    assert "Finished 0 report(s)." in runner.invoke(app, ["reports", "work", "--once"]).output


def test_expire_deletes_the_files_past_their_time(db_url: str, uploads: Path) -> None:
    # given a ready report whose time is up
    report_id = _queue(db_url)
    assert runner.invoke(app, ["reports", "work", "--once"]).exit_code == 0
    assert "Expired 0 report file(s)." in runner.invoke(app, ["reports", "expire"]).output

    async def age() -> None:
        engine = create_engine(db_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
                await session.execute(update(Report).where(Report.id == report_id).values(expires_at=past))
        finally:
            await engine.dispose()

    asyncio.run(age())

    # when the expiry runs
    result = runner.invoke(app, ["reports", "expire"])

    # then the file is deleted and the report EXPIRED
    assert result.exit_code == 0, result.output
    assert "Expired 1 report file(s)." in result.output
    assert _report(db_url, report_id).status is ReportStatus.EXPIRED
    assert _files(uploads) == []


def test_work_runs_until_sigterm(db_url: str, uploads: Path) -> None:
    # given the worker running as a process of its own (polling: memory:// crosses no process)
    env = {**os.environ, "DATABASE_URL": db_url, "BROADCAST_URL": "memory://", "UPLOAD_DIR": str(uploads)}
    env |= {"REPORT_POLL_SECONDS": "0.1", "SECRET_KEY": "cli-test-secret-key-of-enough-length", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ediary_gql.cli", "reports", "work"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # when a report is queued, it is made
        report_id = _queue(db_url)
        deadline = time.monotonic() + 30
        while _report(db_url, report_id).status is not ReportStatus.READY and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _report(db_url, report_id).status is ReportStatus.READY

        # and SIGTERM stops it cleanly
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out, err = proc.communicate()
    assert b"Making queued reports" in out, err.decode(errors="replace")
