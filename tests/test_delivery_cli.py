"""`ediary-gql outbox dispatch --once` and the outbox listing, on a throw-away SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.events.publish import take_events
from ediary_gql.services.notifications import notify
from ediary_gql.settings import get_settings
from tests.cli_support import cli_database
from tests.factories import make_user

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    with cli_database(tmp_path, monkeypatch) as url:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        yield url


def _queue(url: str, *, phone: str, email: str, body: str, channel: Channel) -> None:
    """A committed notification with one delivery (the bus is not running: its events are dropped)."""

    async def work() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                user = await make_user(session, phone=phone, email=email)
                await notify(
                    session,
                    user=user,
                    kind=NotificationKind.VERIFICATION_CODE,
                    title="Код подтверждения",
                    body=body,
                    channels=[channel],
                )
                take_events(session)
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_dispatch_once_sends_what_is_due_and_the_outbox_shows_it(db_url: str) -> None:
    # given a code queued for SMS
    _queue(db_url, phone="+79161234567", email="anna@example.ru", body="Ваш код: 482913", channel=Channel.SMS)

    # when the dispatcher runs once
    result = runner.invoke(app, ["outbox", "dispatch", "--once"])

    # then it reports the send, and the outbox listing has it
    assert result.exit_code == 0, result.output
    assert "Sent 1, to retry 0, failed 0." in result.output
    listing = runner.invoke(app, ["outbox", "--to", "+79161234567"])
    assert listing.exit_code == 0, listing.output
    assert "482913" in listing.output
    # and there is nothing more to send
    assert "Sent 0, to retry 0, failed 0." in runner.invoke(app, ["outbox", "dispatch", "--once"]).output


def test_dispatch_once_with_the_smtp_server_down_keeps_the_email_for_later(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given SMTP configured on a port where nothing listens, and an email queued
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_TLS", "none")
    get_settings.cache_clear()
    _queue(db_url, phone="+79161234567", email="anna@example.ru", body="Ваш код: 482913", channel=Channel.EMAIL)

    # when the dispatcher runs once
    result = runner.invoke(app, ["outbox", "dispatch", "--once"])

    # then the email waits for a retry, and nothing went to the development outbox
    assert result.exit_code == 0, result.output
    assert "Sent 0, to retry 1, failed 0." in result.output
    assert "empty" in runner.invoke(app, ["outbox"]).output


def test_the_outbox_as_json_and_its_times_with_their_zone(db_url: str) -> None:
    # given a code sent through the development channel
    _queue(db_url, phone="+79161234567", email="anna@example.ru", body="Ваш код: 482913", channel=Channel.SMS)
    assert runner.invoke(app, ["outbox", "dispatch", "--once"]).exit_code == 0

    # when the outbox is read as JSON
    result = runner.invoke(app, ["outbox", "--json"])
    assert result.exit_code == 0, result.output
    # then it is one array, with the whole text and an ISO time carrying its offset
    [message] = json.loads(result.output)
    assert {k: message[k] for k in ("channel", "to", "text")} == {
        "channel": "SMS",
        "to": "+79161234567",
        "text": "Ваш код: 482913",
    }
    sent = dt.datetime.fromisoformat(message["createdAt"])
    assert sent.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - sent) < dt.timedelta(minutes=5)
    # and in another zone it is the same instant, with that zone's offset
    [moscow] = json.loads(runner.invoke(app, ["outbox", "--json", "--tz", "Europe/Moscow"]).output)
    in_moscow = dt.datetime.fromisoformat(moscow["createdAt"])
    assert (in_moscow, in_moscow.utcoffset()) == (sent, dt.timedelta(hours=3))
    # and the table says the zone of its times too
    table = runner.invoke(app, ["outbox", "--tz", "Europe/Moscow"]).output
    assert f"{in_moscow.isoformat(sep=' ', timespec='seconds')} Europe/Moscow" in table
    assert runner.invoke(app, ["outbox", "--tz", "Mars/Olympus"]).exit_code == 2


def test_an_empty_outbox_as_json_is_an_empty_array(db_url: str) -> None:
    result = runner.invoke(app, ["outbox", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
