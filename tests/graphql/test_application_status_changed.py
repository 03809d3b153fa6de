"""applicationStatusChanged over a real WebSocket (memory:// or Redis, as configured)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.events import channels
from tests.application_support import make_world, person, review, staff, submitted, wait_subscribed
from tests.factories import make_school
from tests.support import GraphQLClient, ws_connect

ONE = "subscription($id: ID) { applicationStatusChanged(applicationId: $id) { id number status dueOn } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


def _pk(global_id: str) -> int:
    return int(from_base64(global_id)[1])


def _data(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] in ("next", "data"), message
    assert "errors" not in message["payload"], message
    result: dict[str, Any] = message["payload"]["data"]["applicationStatusChanged"]
    return result


def _error_code(message: dict[str, Any]) -> str:
    if message["type"] == "error":
        payload = message["payload"]
        first = payload[0] if isinstance(payload, list) else payload
    else:
        first = message["payload"]["errors"][0]
    code: str = first["extensions"]["code"]
    return code


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_parent_hears_every_status_change_in_order(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init(world.parent.token))["type"] == "connection_ack"
        await ws.subscribe(ONE, {"id": app["id"]})
        await wait_subscribed(app_services, channels.application_status(_pk(app["id"])))

        for action in ("ACCEPT", "START_REVIEW", "APPROVE"):
            assert (await review(gql, world.admin.token, app["id"], action))["userErrors"] == []
        heard = [_data(await ws.receive())["status"] for _ in range(3)]
        assert heard == ["ACCEPTED", "IN_REVIEW", "APPROVED"]
        # a refused action changes nothing and says nothing
        assert (await review(gql, world.admin.token, app["id"], "REJECT", comment="x"))["userErrors"]
        assert await ws.no_message(within=0.3)


async def test_another_parent_may_not_follow_the_application(
    gql: GraphQLClient, session: AsyncSession, ws_url: str
) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    stranger = await person(session, gql, "stranger@example.ru")
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    for token in (stranger.token, teacher.token):
        async with ws_connect(ws_url) as ws:
            await ws.init(token)
            await ws.subscribe(ONE, {"id": app["id"]})
            assert _error_code(await ws.receive()) == "FORBIDDEN"
    async with ws_connect(ws_url) as ws:
        await ws.init()
        await ws.subscribe(ONE, {"id": app["id"]})
        assert _error_code(await ws.receive()) == "UNAUTHENTICATED"


async def test_staff_with_no_argument_hear_every_change_at_their_school(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    world = await make_world(session, gql)
    other_school = await make_school(session, settlement_id=world.school.settlement_id)
    await session.commit()
    other_admin = await staff(session, gql, "admin@other.example.ru", other_school)
    app = await submitted(session, gql, world)
    async with ws_connect(ws_url) as ws, ws_connect(ws_url) as other_ws:
        await ws.init(world.admin.token)
        await ws.subscribe(ONE)
        await other_ws.init(other_admin.token)
        await other_ws.subscribe(ONE)
        await wait_subscribed(app_services, channels.school_applications(world.school.id))
        await wait_subscribed(app_services, channels.school_applications(other_school.id))

        assert (await review(gql, world.admin.token, app["id"], "ACCEPT"))["userErrors"] == []
        changed = _data(await ws.receive())
        assert (changed["id"], changed["status"]) == (app["id"], "ACCEPTED")
        assert await other_ws.no_message(within=0.3)


async def test_staff_of_several_schools_hear_each_of_them(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    from tests.factories import make_staff_membership

    world = await make_world(session, gql)
    second = await make_school(session, settlement_id=world.school.settlement_id)
    await make_staff_membership(session, user_id=world.admin.user_id, school_id=second.id, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    app = await submitted(session, gql, world)
    async with ws_connect(ws_url) as ws:
        await ws.init(world.admin.token)
        await ws.subscribe(ONE)
        await wait_subscribed(app_services, channels.school_applications(world.school.id))
        await wait_subscribed(app_services, channels.school_applications(second.id))
        assert (await review(gql, world.admin.token, app["id"], "ACCEPT"))["userErrors"] == []
        assert _data(await ws.receive())["status"] == "ACCEPTED"


async def test_with_no_argument_parents_and_teachers_are_refused(
    gql: GraphQLClient, session: AsyncSession, ws_url: str
) -> None:
    world = await make_world(session, gql)
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    # operators follow one application at a time, not every school at once
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)
    for token in (world.parent.token, teacher.token, operator.token):
        async with ws_connect(ws_url) as ws:
            await ws.init(token)
            await ws.subscribe(ONE)
            assert _error_code(await ws.receive()) == "FORBIDDEN"
