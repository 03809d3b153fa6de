"""notificationReceived over a real WebSocket: after commit only, both protocols."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.users import User
from ediary_gql.events import channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from tests.factories import make_user
from tests.support import GraphQLClient, data_of, error_code, refusal_code, wait_subscribed, ws_connect

PASSWORD = "correct horse battery"
SUBSCRIPTION = "subscription { notificationReceived { id kind title body isRead } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


class Boom(Exception):
    pass


async def _signed_in_user(
    session: AsyncSession, gql: GraphQLClient, email: str = "anna@example.ru"
) -> tuple[User, str]:
    user = await make_user(session, email=email, password=PASSWORD)
    await session.commit()
    return user, await gql.sign_in(email, PASSWORD)


async def _notify(services: AppServices, user: User, title: str, *, fail: bool = False) -> None:
    async with unit_of_work(services.session_factory, services.bus) as session:
        await notify(session, user=user, kind=NotificationKind.SYSTEM, title=title, body="Текст")
        if fail:
            raise Boom


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_event_arrives_after_commit_never_after_rollback(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    user, token = await _signed_in_user(session, gql)
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init(token))["type"] == "connection_ack"
        await ws.subscribe(SUBSCRIPTION)
        await wait_subscribed(app_services, channels.user_notifications(user.id))

        # when a transaction that created a notification rolls back
        with pytest.raises(Boom):
            await _notify(app_services, user, "Откат", fail=True)
        # then nothing reaches the subscriber
        assert await ws.no_message(within=0.3)

        # when one commits
        await _notify(app_services, user, "Новая оценка")
        # then it arrives, read back from the database
        data = data_of(await ws.receive())
        assert data["title"] == "Новая оценка"
        assert data["isRead"] is False

    # the rolled-back one was never stored
    inbox = await gql.data("{ notifications { totalCount edges { node { title } } } }", token=token)
    assert inbox["notifications"]["totalCount"] == 1


async def test_each_user_hears_only_their_own(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    anna, anna_token = await _signed_in_user(session, gql, "anna@example.ru")
    boris, _ = await _signed_in_user(session, gql, "boris@example.ru")
    async with ws_connect(ws_url) as ws:
        await ws.init(anna_token)
        await ws.subscribe(SUBSCRIPTION)
        await wait_subscribed(app_services, channels.user_notifications(anna.id))
        await _notify(app_services, boris, "Для Бориса")
        assert await ws.no_message(within=0.3)
        await _notify(app_services, anna, "Для Анны")
        assert data_of(await ws.receive())["title"] == "Для Анны"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_anonymous_subscription_is_refused(protocol: str, ws_url: str, server: str) -> None:
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        await ws.subscribe(SUBSCRIPTION)
        assert refusal_code(await ws.receive()) == "UNAUTHENTICATED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_refused_subscription_is_an_error_message_and_a_stream_that_ran_ends_with_a_result(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    # given an anonymous socket
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        # when it subscribes, the refusal is the protocol's `error` message for that operation
        op_id = await ws.subscribe(SUBSCRIPTION)
        refused = await ws.receive()
        assert (refused["type"], refused["id"]) == ("error", op_id), refused
        assert "data" not in refused["payload"]
        assert refusal_code(refused) == "UNAUTHENTICATED"
        # which ends the operation (no `complete` follows), not the socket: another is answered alike
        assert await ws.no_message(within=0.3)
        again = await ws.subscribe(SUBSCRIPTION)
        assert (await ws.receive())["id"] == again
    # while a stream that ran ends with a result carrying its error, then `complete`
    user, token = await _signed_in_user(session, gql)
    async with ws_connect(ws_url, protocol) as ws:
        await ws.init(token)
        op_id = await ws.subscribe(SUBSCRIPTION)
        await wait_subscribed(app_services, channels.user_notifications(user.id))
        await gql.data("mutation { signOut { revokedSessions } }", token=token)
        await _notify(app_services, user, "После выхода")
        ended = await ws.receive()
        assert ended["type"] in ("next", "data"), ended
        assert error_code(ended) == "TOKEN_REVOKED"
        assert await ws.receive() == {"id": op_id, "type": "complete"}


async def test_bad_token_rejects_the_connection(ws_url: str, server: str) -> None:
    async with ws_connect(ws_url) as ws:
        await ws.send({"type": "connection_init", "payload": {"authorization": "Bearer garbage"}})
        assert await ws.close_code() == 4403


async def test_legacy_protocol_bad_token_gets_connection_error(ws_url: str, server: str) -> None:
    async with ws_connect(ws_url, "graphql-ws") as ws:
        await ws.send({"type": "connection_init", "payload": {"authorization": "Bearer garbage"}})
        message = await ws.receive()
        assert message["type"] == "connection_error"
        assert message["payload"]["code"] == "TOKEN_INVALID"


async def test_signed_out_session_hears_no_more(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    user, token = await _signed_in_user(session, gql)
    async with ws_connect(ws_url) as ws:
        await ws.init(token)
        await ws.subscribe(SUBSCRIPTION)
        await wait_subscribed(app_services, channels.user_notifications(user.id))
        await gql.data("mutation { signOut { revokedSessions } }", token=token)
        await _notify(app_services, user, "После выхода")
        assert error_code(await ws.receive()) == "TOKEN_REVOKED"
