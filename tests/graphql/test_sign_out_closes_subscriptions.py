"""A revoked session's open subscriptions end at once (not at their next event),
on both WebSocket protocols; other sessions' subscriptions go on."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.users import User
from ediary_gql.events import channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings
from tests.graphql.test_two_processes import second_server  # noqa: F401 - the second process, a fixture
from tests.registration_support import EMAIL, PASSWORD, PHONE, confirmed_user, latest_code
from tests.support import (
    GraphQLClient,
    WsClient,
    error_code,
    wait_subscribed,
    wait_subscribed_on_redis,
    ws_connect,
)

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
SUBSCRIPTION = "subscription { notificationReceived { title } }"
SIGN_OUT = "mutation($all: Boolean!) { signOut(input: {allDevices: $all}) { revokedSessions } }"
AT_ONCE = 2.0  # seconds: well above a local round trip, far below "the next event"


async def _released(services: AppServices, user_id: int) -> bool:
    for _ in range(200):
        if (
            services.bus.subscriber_count(channels.user_notifications(user_id)) == 0
            and services.bus.subscriber_count(channels.user_sessions(user_id)) == 0
        ):
            return True
        await asyncio.sleep(0.01)
    return False


async def _notify(services: AppServices, user: User, title: str) -> None:
    async with unit_of_work(services.session_factory, services.bus) as session:
        await notify(session, user=user, kind=NotificationKind.SYSTEM, title=title, body="Текст")


async def _listening(ws: WsClient, token: str, services: AppServices, user_id: int) -> None:
    await ws.start(SUBSCRIPTION, token=token)
    # it listens once on the notifications channel (it joins the sessions one before)
    await wait_subscribed(services, channels.user_notifications(user_id))


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sign_out_ends_the_open_subscription_at_once(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    # given a device listening for notifications
    user = await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    async with ws_connect(ws_url, protocol) as ws:
        await _listening(ws, token, app_services, user.id)
        # when it signs out (over HTTP), with no event on the subscription's own channel
        await gql.data(SIGN_OUT, {"all": False}, token=token)
        # then the subscription ends at once with TOKEN_REVOKED
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"
        # and lets go of the event bus
        assert await _released(app_services, user.id)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sign_out_of_another_device_leaves_this_one_listening(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    user = await confirmed_user(session)
    listening_token = await gql.sign_in(EMAIL, PASSWORD)
    other_token = await gql.sign_in(PHONE, PASSWORD)
    async with ws_connect(ws_url, protocol) as ws:
        await _listening(ws, listening_token, app_services, user.id)
        await gql.data(SIGN_OUT, {"all": False}, token=other_token)
        assert await ws.no_message(within=0.3)
        await _notify(app_services, user, "Всё ещё здесь")
        message = await ws.receive()
        assert message["payload"]["data"]["notificationReceived"]["title"] == "Всё ещё здесь"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sign_out_everywhere_from_another_device_ends_it(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    user = await confirmed_user(session)
    listening_token = await gql.sign_in(EMAIL, PASSWORD)
    other_token = await gql.sign_in(PHONE, PASSWORD)
    async with ws_connect(ws_url, protocol) as ws:
        await _listening(ws, listening_token, app_services, user.id)
        await gql.data(SIGN_OUT, {"all": True}, token=other_token)
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"


async def test_a_password_reset_ends_open_subscriptions(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    user = await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    async with ws_connect(ws_url) as ws:
        await _listening(ws, token, app_services, user.id)
        await gql.data(
            "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) { accepted } }",
            {"i": {"login": EMAIL}},
        )
        code = await latest_code(app_services, user.id, Channel.EMAIL)
        reset = await gql.data(
            "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { passwordChanged } }",
            {"i": {"login": EMAIL, "code": code, "newPassword": "Зелёный-паровоз-1917"}},
        )
        assert reset["resetPassword"]["passwordChanged"] is True
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscription_started_after_sign_out_is_refused(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    # given a connection opened while signed in, whose session then ends
    await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init(token))["type"] == "connection_ack"
        await gql.data(SIGN_OUT, {"all": False}, token=token)
        # when it subscribes
        await ws.subscribe(SUBSCRIPTION)
        # then it is refused at once
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"


@pytest.mark.redis_only
async def test_sign_out_in_one_process_ends_the_subscription_in_another(
    gql: GraphQLClient,
    session: AsyncSession,
    settings: Settings,
    second_server: str,  # noqa: F811 - the fixture imported above
) -> None:
    # given a device listening on a second server process
    second = second_server
    user = await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    async with ws_connect(second.replace("http://", "ws://")) as ws:
        await ws.start(SUBSCRIPTION, token=token)
        await wait_subscribed_on_redis(settings, channels.user_sessions(user.id), channels.user_notifications(user.id))
        # when it signs out through this process
        await gql.data(SIGN_OUT, {"all": False}, token=token)
        # then the other process ends the subscription at once
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"


@pytest.mark.redis_only
async def test_a_lock_made_in_one_process_holds_in_another(
    gql: GraphQLClient,
    session: AsyncSession,
    second_server: str,  # noqa: F811 - the fixture imported above
) -> None:
    second = second_server
    await confirmed_user(session)
    sign_in = "mutation($i: SignInInput!) { signIn(input: $i) { accessToken userErrors { code } } }"
    for _ in range(5):
        await gql.data(sign_in, {"i": {"login": EMAIL, "password": "не-тот-пароль"}})
    async with httpx.AsyncClient(base_url=second, timeout=10) as http:
        other = GraphQLClient(http)
        refused = await other.data(sign_in, {"i": {"login": EMAIL, "password": PASSWORD}})
    assert refused["signIn"]["userErrors"] == [{"code": "RATE_LIMITED"}]
