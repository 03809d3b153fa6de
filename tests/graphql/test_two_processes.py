"""Two server processes sharing the database and Redis: an event committed in one
reaches a WebSocket subscriber of the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.events import channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings
from tests.factories import make_user
from tests.support import GraphQLClient, data_of, server_process, wait_subscribed_on_redis, ws_connect

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
    user = await make_user(session, email="anna@example.ru", password=PASSWORD)
    await session.commit()
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    async with ws_connect(second_server.replace("http://", "ws://")) as ws:
        await ws.start("subscription { notificationReceived { title } }", token=token)
        await wait_subscribed_on_redis(settings, channels.user_notifications(user.id))

        # committed by this process …
        async with unit_of_work(app_services.session_factory, app_services.bus) as s:
            await notify(s, user=user, kind=NotificationKind.SYSTEM, title="Из другого процесса", body="")
        # … heard by the other
        assert data_of(await ws.receive())["title"] == "Из другого процесса"
