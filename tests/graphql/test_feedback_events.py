"""feedbackTicketEvents over a real WebSocket (memory:// or Redis, as configured): the
author follows their ticket, operators and school admins their queue; rights read anew
at every event."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.events import channels
from tests.diary_writes_support import World, gid, make_world
from tests.factories import make_grade
from tests.support import GraphQLClient, data_of, error_code, refusal_code, wait_subscribed, ws_connect

EVENTS = "subscription($id: ID) { feedbackTicketEvents(ticketId: $id) { id number status assignee { id } } }"
SUBMIT = """mutation($i: SubmitFeedbackInput!) {
  submitFeedback(input: $i) { ticket { id number } userErrors { field code message } } }"""
STEP = "mutation($i: {Name}Input!) {{ {name}(input: $i) {{ ticket {{ id status }} userErrors {{ field code }} }} }}"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
CHANNEL = channels.feedback_tickets()


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


async def submit(gql: GraphQLClient, token: str, **i: Any) -> dict[str, Any]:
    fields = {"category": "TECHNICAL", "subject": "Не открывается дневник", "description": "Белый экран", **i}
    payload = (await gql.data(SUBMIT, {"i": fields}, token=token))["submitFeedback"]
    assert payload["userErrors"] == [], payload
    ticket: dict[str, Any] = payload["ticket"]
    return ticket


async def step(gql: GraphQLClient, token: str, name: str, **i: Any) -> None:
    query = STEP.format(Name=name[0].upper() + name[1:], name=name)
    payload = (await gql.data(query, {"i": i}, token=token))[name]
    assert payload["userErrors"] == [], payload


async def a_grade(session: AsyncSession, world: World) -> int:
    grade = await make_grade(session, lesson_id=(await world.lesson(session)).id, child_id=world.child.id)
    await session.commit()
    return grade.id


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_author_and_the_operators_hear_each_step(
    protocol: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World
) -> None:
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    other = await world.token(gql, world.other_parent)
    async with ws_connect(ws_url, protocol) as queue:
        assert (await queue.init(op))["type"] == "connection_ack"
        await queue.subscribe(EVENTS)
        await wait_subscribed(app_services, CHANNEL)
        ticket = await submit(gql, parent)
        heard = data_of(await queue.receive())
        assert (heard["id"], heard["number"], heard["status"]) == (ticket["id"], ticket["number"], "OPEN")

        async with ws_connect(ws_url, protocol) as mine:
            assert (await mine.init(parent))["type"] == "connection_ack"
            await mine.subscribe(EVENTS, {"id": ticket["id"]})
            await wait_subscribed(app_services, CHANNEL, count=2)
            # someone else's ticket in the meantime is not the author's to hear
            await submit(gql, other)
            assert data_of(await queue.receive())["status"] == "OPEN"
            assert await mine.no_message(within=0.3)

            # each step heard by both, the ticket read as it is after it
            for who, name, more, status in (
                (op, "takeFeedbackTicket", {}, "IN_PROGRESS"),
                (op, "answerFeedbackTicket", {"answer": "Очистите кэш"}, "ANSWERED"),
                (parent, "closeFeedbackTicket", {}, "CLOSED"),
            ):
                await step(gql, who, name, ticketId=ticket["id"], **more)
                for ws in (mine, queue):
                    heard = data_of(await ws.receive())
                    assert (heard["id"], heard["status"]) == (ticket["id"], status)
                    assert heard["assignee"] == {"id": gid("User", world.operator.id)}
            assert await mine.no_message(within=0.3)


async def test_a_school_admin_hears_the_content_errors_of_their_school_only(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World
) -> None:
    grade = await a_grade(session, world)
    parent = await world.token(gql, world.parent)
    admin, foreign = await world.token(gql, world.admin), await world.token(gql, world.foreign_admin)
    async with ws_connect(ws_url) as ours, ws_connect(ws_url) as theirs:
        for ws, token in ((ours, admin), (theirs, foreign)):
            assert (await ws.init(token))["type"] == "connection_ack"
            await ws.subscribe(EVENTS)
        await wait_subscribed(app_services, CHANNEL, count=2)
        await submit(gql, parent, category="TECHNICAL", linkIds=[gid("Grade", grade)])
        content = await submit(gql, parent, category="CONTENT_ERROR", linkIds=[gid("Grade", grade)])
        heard = data_of(await ours.receive())
        assert (heard["id"], heard["status"]) == (content["id"], "OPEN")  # not the technical one
        assert await ours.no_message(within=0.3)
        assert await theirs.no_message(within=0.1)
        # the foreign admin may not follow the ticket by its ID either
        async with ws_connect(ws_url) as ws:
            await ws.init(foreign)
            await ws.subscribe(EVENTS, {"id": content["id"]})
            assert refusal_code(await ws.receive()) == "FORBIDDEN"


async def test_an_admin_whose_membership_ended_is_refused_at_the_next_event(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World
) -> None:
    grade = await a_grade(session, world)
    parent, admin = await world.token(gql, world.parent), await world.token(gql, world.admin)
    op = await world.token(gql, world.operator)
    ticket = await submit(gql, parent, category="CONTENT_ERROR", linkIds=[gid("Grade", grade)])
    async with ws_connect(ws_url) as ws:
        assert (await ws.init(admin))["type"] == "connection_ack"
        await ws.subscribe(EVENTS)
        await wait_subscribed(app_services, CHANNEL)
        await step(gql, op, "takeFeedbackTicket", ticketId=ticket["id"])
        assert data_of(await ws.receive())["status"] == "IN_PROGRESS"

        await session.execute(
            update(StaffMembership)
            .where(StaffMembership.user_id == world.admin.id, StaffMembership.school_id == world.school.id)
            .values(active=False)
        )
        await session.commit()
        await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Исправили")
        ended = await ws.receive()
        assert error_code(ended) == "FORBIDDEN", ended
        assert (await ws.receive())["type"] == "complete"


TWIN = "subscription($id: ID) { feedbackEvents(ticketId: $id) { cursor ticket { id status } } }"


@pytest.mark.parametrize("query", [EVENTS, TWIN], ids=["feedbackTicketEvents", "feedbackEvents"])
async def test_families_and_teachers_may_not_follow_the_queue_nor_another_ticket(
    query: str, gql: GraphQLClient, session: AsyncSession, ws_url: str, world: World
) -> None:
    ticket = await submit(gql, await world.token(gql, world.parent))
    for user in (world.parent, world.student, world.teacher):
        async with ws_connect(ws_url) as ws:
            await ws.init(await world.token(gql, user))
            await ws.subscribe(query)
            assert refusal_code(await ws.receive()) == "FORBIDDEN", user.email
    for user in (world.other_parent, world.teacher, world.admin):  # a TECHNICAL ticket is not the school's
        async with ws_connect(ws_url) as ws:
            await ws.init(await world.token(gql, user))
            await ws.subscribe(query, {"id": ticket["id"]})
            assert refusal_code(await ws.receive()) == "FORBIDDEN", user.email
    async with ws_connect(ws_url) as ws:
        await ws.init()
        await ws.subscribe(query, {"id": ticket["id"]})
        assert refusal_code(await ws.receive()) == "UNAUTHENTICATED"
