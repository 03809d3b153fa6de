"""A browser app on another origin opens /graphql's WebSocket: headless Chromium, a page of
another origin (a static file server of the test's own on another port), a server process
with CORS_ORIGINS naming that origin. The browser sets `Origin` itself, as for any site: the
allowed one gets `connection_ack`, another is refused at the handshake."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext

from ediary_gql.context import AppServices
from ediary_gql.settings import Settings
from tests.support import free_port, server_process

# opens the socket, sends connection_init and reports what came back (or how it closed)
HANDSHAKE = """async (url) => await new Promise((resolve) => {
  const socket = new WebSocket(url, "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify({type: "connection_init", payload: {}}));
  socket.onmessage = (event) => { resolve(JSON.parse(event.data).type); socket.close(); };
  socket.onclose = (event) => resolve("closed " + event.code);
})"""


@asynccontextmanager
async def _site(folder: Path, port: int) -> AsyncIterator[str]:
    """A web site of its own: `python -m http.server` serving an empty page."""
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - the test's own folder
    (folder / "index.html").write_text("<!doctype html><title>app</title>", encoding="utf-8")
    proc = subprocess.Popen(  # noqa: ASYNC220 - one per test
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.get(origin)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield origin
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def sites(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    async with _site(tmp_path / "app", free_port()) as app, _site(tmp_path / "other", free_port()) as other:
        yield app, other


async def test_a_page_of_an_allowed_origin_opens_a_websocket(
    browser_context: BrowserContext, settings: Settings, app_services: AppServices, sites: tuple[str, str]
) -> None:
    app_origin, other_origin = sites
    quiet = {"REMINDERS_ENABLED": "false", "REPORTS_WORKER_ENABLED": "false", "WEBHOOKS_SENDER_ENABLED": "false"}
    async with server_process(settings, CORS_ORIGINS=app_origin, **quiet) as api:
        socket_url = api.replace("http://", "ws://") + "/graphql"
        page = await browser_context.new_page()
        await page.goto(f"{app_origin}/")
        assert await page.evaluate(HANDSHAKE, socket_url) == "connection_ack"
        # refused before the socket opens (HTTP 403): the browser reports an abnormal close
        await page.goto(f"{other_origin}/")
        assert await page.evaluate(HANDSHAKE, socket_url) == "closed 1006"
