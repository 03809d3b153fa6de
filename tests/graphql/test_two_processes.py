"""Two server processes sharing the database and Redis: an event committed in one
reaches a WebSocket subscriber of the other."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.passwords import hash_password
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind, UserStatus
from ediary_gql.events import channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings
from tests.factories import make_user
from tests.support import GraphQLClient, ws_connect

pytestmark = pytest.mark.redis_only
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture
async def second_server(settings: Settings, server: str) -> AsyncIterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": settings.broadcast_url,
        "BROADCAST_NAMESPACE": settings.broadcast_namespace,
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "WARNING",
        "DISPATCHER_ENABLED": "false",
    }
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting a server process once per test is fine
        [sys.executable, "-m", "uvicorn", "ediary_gql.app:create_app", "--factory", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited")
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("second server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


async def test_event_crosses_processes(
    gql: GraphQLClient,
    session: AsyncSession,
    app_services: AppServices,
    settings: Settings,
    second_server: str,
) -> None:
    user = await make_user(
        session, email="anna@example.ru", password_hash=hash_password(PASSWORD), status=UserStatus.CONFIRMED
    )
    await session.commit()
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    channel = settings.broadcast_namespace + channels.user_notifications(user.id)
    redis = aioredis.from_url(settings.broadcast_url)
    try:
        async with ws_connect(second_server.replace("http://", "ws://")) as ws:
            assert (await ws.init(token))["type"] == "connection_ack"
            await ws.subscribe("subscription { notificationReceived { title } }")
            for _ in range(300):
                counts = dict(await redis.pubsub_numsub(channel))
                if counts.get(channel.encode(), 0) > 0:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the second process never subscribed")

            # committed by this process …
            async with unit_of_work(app_services.session_factory, app_services.bus) as s:
                await notify(s, user=user, kind=NotificationKind.SYSTEM, title="Из другого процесса", body="")
            # … heard by the other
            message = await ws.receive()
            assert message["payload"]["data"]["notificationReceived"]["title"] == "Из другого процесса"
    finally:
        await redis.aclose()
