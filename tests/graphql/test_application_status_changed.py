"""applicationStatusChanged over a real WebSocket (memory:// or Redis, as configured)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64, to_base64

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.events import channels
from tests.application_support import World, make_world, person, review, staff, submitted
from tests.factories import make_school
from tests.support import GraphQLClient, data_of, error_code, refusal_code, wait_subscribed, ws_connect

ONE = "subscription($id: ID) { applicationStatusChanged(applicationId: $id) { id number status dueOn } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


def _pk(global_id: str) -> int:
    return int(from_base64(global_id)[1])


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
        heard = [data_of(await ws.receive())["status"] for _ in range(3)]
        assert heard == ["ACCEPTED", "IN_REVIEW", "APPROVED"]
        # a refused action changes nothing and says nothing
        assert (await review(gql, world.admin.token, app["id"], "REJECT", comment="x"))["userErrors"]
        assert await ws.no_message(within=0.3)


TWIN = "subscription($id: ID) { applicationEvents(applicationId: $id) { cursor status application { id } } }"


@pytest.mark.parametrize("query", [ONE, TWIN], ids=["applicationStatusChanged", "applicationEvents"])
async def test_another_parent_may_not_follow_the_application(
    query: str, gql: GraphQLClient, session: AsyncSession, ws_url: str
) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    stranger = await person(session, gql, "stranger@example.ru")
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    for token in (stranger.token, teacher.token):
        async with ws_connect(ws_url) as ws:
            await ws.init(token)
            await ws.subscribe(query, {"id": app["id"]})
            assert refusal_code(await ws.receive()) == "FORBIDDEN"
    async with ws_connect(ws_url) as ws:
        await ws.init()
        await ws.subscribe(query, {"id": app["id"]})
        assert refusal_code(await ws.receive()) == "UNAUTHENTICATED"


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
        changed = data_of(await ws.receive())
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
        assert data_of(await ws.receive())["status"] == "ACCEPTED"


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
            assert refusal_code(await ws.receive()) == "FORBIDDEN"


HISTORY = (
    "subscription($id: ID) { applicationStatusChanged(applicationId: $id) { id status history { toStatus action } } }"
)


def _following(follows: str, app: dict[str, Any], world: World) -> tuple[dict[str, Any], str]:
    """The subscription's variables and the channel it listens on: one application, or the school's."""
    if follows == "one":
        return {"id": app["id"]}, channels.application_status(_pk(app["id"]))
    return {}, channels.school_applications(world.school.id)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("follows", ["one", "school"])
async def test_nested_fields_are_read_fresh_for_every_event(
    protocol: str, follows: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    # given a parent following her application, or its school's admin following the school
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    follower = world.parent if follows == "one" else world.admin
    variables, channel = _following(follows, app, world)
    async with ws_connect(ws_url, protocol) as ws:
        assert (await ws.init(follower.token))["type"] == "connection_ack"
        await ws.subscribe(HISTORY, variables)
        await wait_subscribed(app_services, channel)

        # when the school takes two steps, one after the other
        for step, status in (("ACCEPT", "ACCEPTED"), ("START_REVIEW", "IN_REVIEW")):
            assert (await review(gql, world.admin.token, app["id"], step))["userErrors"] == []
            heard = data_of(await ws.receive())
            # then each event's history ends at the status it announces (no loader kept from the last one)
            assert heard["status"] == status
            assert heard["history"][-1] == {"toStatus": status, "action": step}
        assert [h["toStatus"] for h in heard["history"]] == ["DRAFT", "SUBMITTED", "ACCEPTED", "IN_REVIEW"]


async def _end_membership(session: AsyncSession, user_id: int, school_id: int) -> None:
    await session.execute(
        update(StaffMembership)
        .where(StaffMembership.user_id == user_id, StaffMembership.school_id == school_id)
        .values(active=False)
    )
    await session.commit()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("follows", ["one", "school"])
async def test_an_admin_whose_membership_ended_is_refused_at_the_next_event(
    protocol: str, follows: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    # given two admins of the school following an application (or the school's applications)
    world = await make_world(session, gql)
    colleague = await staff(session, gql, "deputy@school.example.ru", world.school)
    app = await submitted(session, gql, world)
    variables, channel = _following(follows, app, world)
    async with ws_connect(ws_url, protocol) as leaving, ws_connect(ws_url, protocol) as staying:
        for ws, who in ((leaving, world.admin), (staying, colleague)):
            assert (await ws.init(who.token))["type"] == "connection_ack"
            await ws.subscribe(ONE, variables)
        await wait_subscribed(app_services, channel, count=2)
        assert (await review(gql, colleague.token, app["id"], "ACCEPT"))["userErrors"] == []
        assert data_of(await leaving.receive())["status"] == "ACCEPTED"
        assert data_of(await staying.receive())["status"] == "ACCEPTED"

        # when one admin's membership ends (in the database: nothing tells the stream) and the school acts again
        await _end_membership(session, world.admin.user_id, world.school.id)
        assert (await review(gql, colleague.token, app["id"], "START_REVIEW"))["userErrors"] == []

        # then the former admin's stream ends with FORBIDDEN, hearing nothing of the change
        ended = await leaving.receive()
        assert error_code(ended) == "FORBIDDEN", ended
        assert (await leaving.receive())["type"] == "complete"
        # and the admin still at the school goes on hearing every change
        assert data_of(await staying.receive())["status"] == "IN_REVIEW"
        assert await leaving.no_message(within=0.3)


async def test_an_operator_follows_one_application_and_an_id_of_another_type_is_invalid(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)
    async with ws_connect(ws_url) as ws:
        await ws.init(operator.token)
        await ws.subscribe(ONE, {"id": to_base64("School", world.school.id)})
        assert refusal_code(await ws.receive()) == "INVALID"
    async with ws_connect(ws_url) as ws:
        await ws.init(operator.token)
        await ws.subscribe(ONE, {"id": app["id"]})
        await wait_subscribed(app_services, channels.application_status(_pk(app["id"])))
        assert (await review(gql, world.admin.token, app["id"], "ACCEPT"))["userErrors"] == []
        assert data_of(await ws.receive())["status"] == "ACCEPTED"
