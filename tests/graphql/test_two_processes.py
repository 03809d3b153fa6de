"""Two server processes sharing the database and Redis: an event committed in one
reaches a WebSocket subscriber of the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
from tests.support import GraphQLClient, server_process, ws_connect

pytestmark = pytest.mark.redis_only
PASSWORD = "correct horse battery"


@pytest_asyncio.fixture
async def second_server(settings: Settings, server: str) -> AsyncIterator[str]:
    async with server_process(settings) as url:
        yield url


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
