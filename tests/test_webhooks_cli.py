"""`ediary-gql webhooks send --once`: relays and sends what is due, to a real receiver (an
http.server in a thread), on a throw-away SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import DeliveryStatus
from tests.cli_support import cli_database
from tests.factories import make_webhook, make_webhook_delivery

runner = CliRunner()


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["X-Ediary-Event-Id"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def hook_url() -> Iterator[str]:
    _Hook.received.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _queue(url: str, hook_url: str) -> None:
    async def work() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                hook = await make_webhook(session, url=hook_url, events=["GRADE"])
                await make_webhook_delivery(
                    session,
                    webhook_id=hook.id,
                    event_id="7",
                    event_type="grade.created",
                    payload={"id": "7"},
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
                )
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_send_once_delivers_what_is_due(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook_url: str) -> None:
    with cli_database(tmp_path, monkeypatch, WEBHOOK_ALLOW_PRIVATE_URLS="true") as url:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        _queue(url, hook_url)
        result = runner.invoke(app, ["webhooks", "send", "--once"])
        assert result.exit_code == 0, result.output
        assert "Sent 1, to retry 0, failed 0." in result.output
        assert _Hook.received == [("7", b'{"id":"7"}')]
        # nothing is due any more
        again = runner.invoke(app, ["webhooks", "send", "--once"])
        assert "Sent 0" in again.output


def test_private_receivers_are_refused_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook_url: str
) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_URLS", raising=False)
    with cli_database(tmp_path, monkeypatch) as url:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        _queue(url, hook_url)
        result = runner.invoke(app, ["webhooks", "send", "--once"])
        assert "Sent 0, to retry 0, failed 1." in result.output
        assert _Hook.received == []
