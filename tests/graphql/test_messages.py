"""Messages over real HTTP and WebSocket: a teacher and a parent exchange messages live,
who may write to whom, who may read a thread, and flat statement counts."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.events import channels
from tests.diary_writes_support import World, gid
from tests.factories import make_message, make_thread, make_thread_participant
from tests.support import GraphQLClient, StatementCounter, data_of, error_code, wait_subscribed, ws_connect

START = """mutation($i: StartThreadInput!) { startThread(input: $i) {
  thread { id subject unreadCount participants { user { id } } }
  message { id text author { id } }
  userErrors { field code message } } }"""
SEND = """mutation($i: SendMessageInput!) { sendMessage(input: $i) {
  message { id text } userErrors { field code message } } }"""
READ = """mutation($i: MarkThreadReadInput!) {
  markThreadRead(input: $i) { thread { id unreadCount } userErrors { code } } }"""
LEAVE = "mutation($i: LeaveThreadInput!) { leaveThread(input: $i) { thread { id } userErrors { code } } }"
THREADS = """query($f: ThreadFilter) { threads(filter: $f) { totalCount
  nodes { id subject unreadCount messages(first: 5) { nodes { id text author { id } } } } } }"""
THREAD = """query($id: ID!) { thread(id: $id) { id participants { user { id } }
  messages(first: 10) { edges { cursor node { id text } } pageInfo { hasNextPage } } } }"""
EVENTS = "subscription { messageEvents { action thread { id } message { id text author { id } } } }"
THREAD_EVENTS = "subscription($t: ID!) { threadEvents(threadId: $t) { action message { id text } } }"
UNREAD = "{ me { id unreadMessageCount } }"


async def _start(gql: GraphQLClient, token: str, world: World, *to: int, text: str = "Здравствуйте!") -> dict[str, Any]:
    data = await gql.data(
        START,
        {
            "i": {
                "subject": "Об успеваемости",
                "childId": gid("Child", world.child.id),
                "participantIds": [gid("User", u) for u in to],
                "text": text,
            }
        },
        token=token,
    )
    started: dict[str, Any] = data["startThread"]
    return started


async def test_a_teacher_and_a_parent_exchange_messages_live(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, session: AsyncSession
) -> None:
    parent = await world.token(gql, world.parent)
    teacher = await world.token(gql, world.teacher)
    # given the parent listening for messages
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {}, token=parent)
        await wait_subscribed(app_services, channels.user_messages(world.parent.id))
        # when the teacher writes to the parent about the child
        started = await _start(gql, teacher, world, world.parent.id)
        assert started["userErrors"] == []
        thread_id = started["thread"]["id"]
        # then the parent hears it live
        event = data_of(await ws.receive(within=2.0))
        assert event["action"] == "message"
        assert event["message"]["text"] == "Здравствуйте!"
        assert event["thread"]["id"] == thread_id

    # the parent sees one unread, on the thread and in total on me
    listed = (await gql.data(THREADS, {}, token=parent))["threads"]
    assert listed["totalCount"] == 1
    assert listed["nodes"][0]["unreadCount"] == 1
    assert (await gql.data(UNREAD, token=parent))["me"]["unreadMessageCount"] == 1
    unread = (await gql.data(THREADS, {"f": {"unread": True}}, token=parent))["threads"]
    assert unread["totalCount"] == 1

    # the teacher follows the thread; the parent answers
    async with ws_connect(ws_url) as ws:
        await ws.start(THREAD_EVENTS, {"t": thread_id}, token=teacher)
        await wait_subscribed(app_services, channels.thread_messages(_pk(thread_id)))
        sent = (await gql.data(SEND, {"i": {"threadId": thread_id, "text": "Спасибо, поняла"}}, token=parent))[
            "sendMessage"
        ]
        assert sent["userErrors"] == []
        event = data_of(await ws.receive(within=2.0))
        assert (event["action"], event["message"]["text"]) == ("message", "Спасибо, поняла")

    read = (await gql.data(READ, {"i": {"threadId": thread_id}}, token=parent))["markThreadRead"]
    assert read["thread"]["unreadCount"] == 0
    assert (await gql.data(UNREAD, token=parent))["me"]["unreadMessageCount"] == 0
    assert (await gql.data(UNREAD, token=teacher))["me"]["unreadMessageCount"] == 1

    # the teacher got a MESSAGE notice for the answer
    notes = (
        await session.execute(
            Notification.__table__.select().where(
                Notification.user_id == world.teacher.id, Notification.kind == NotificationKind.MESSAGE
            )
        )
    ).all()
    assert len(notes) == 1

    # messages newest first, both participants listed
    thread = (await gql.data(THREAD, {"id": thread_id}, token=teacher))["thread"]
    assert [e["node"]["text"] for e in thread["messages"]["edges"]] == ["Спасибо, поняла", "Здравствуйте!"]
    assert {p["user"]["id"] for p in thread["participants"]} == {
        gid("User", world.teacher.id),
        gid("User", world.parent.id),
    }


async def test_unread_count_is_the_users_own(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    thread_id = (await _start(gql, parent, world, world.teacher.id))["thread"]["id"]
    assert thread_id
    query = "query($id: ID!) { node(id: $id) { ... on User { id unreadMessageCount } } }"
    # the teacher's card, as the school's admin sees it: no unread count
    other = await gql.data(query, {"id": gid("User", world.teacher.id)}, token=await world.token(gql, world.admin))
    assert other["node"]["id"] == gid("User", world.teacher.id)
    assert other["node"]["unreadMessageCount"] is None
    own = await gql.data(query, {"id": gid("User", world.teacher.id)}, token=teacher)
    assert own["node"]["unreadMessageCount"] == 1


async def test_a_parent_may_not_write_to_another_family(gql: GraphQLClient, world: World) -> None:
    parent = await world.token(gql, world.parent)
    refused = await _start(gql, parent, world, world.other_parent.id)
    assert refused["thread"] is None
    assert refused["userErrors"][0]["field"] == ["participantIds", "0"]
    assert refused["userErrors"][0]["code"] == "INVALID"
    # about another family's child: as if it did not exist
    data = await gql.data(
        START,
        {
            "i": {
                "subject": "?",
                "childId": gid("Child", world.other_child.id),
                "participantIds": [gid("User", world.teacher.id)],
                "text": "Привет",
            }
        },
        token=parent,
    )
    assert data["startThread"]["userErrors"][0]["code"] == "NOT_FOUND"
    # the parent may write to the child's teacher and the school's admin
    ok = await _start(gql, parent, world, world.teacher.id, world.admin.id)
    assert ok["userErrors"] == []


async def test_a_teacher_of_another_school_is_refused(gql: GraphQLClient, world: World) -> None:
    foreign = await world.token(gql, world.foreign_teacher)
    refused = await _start(gql, foreign, world, world.parent.id)
    assert refused["thread"] is None
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"
    # nor may the child's teacher write to a foreign school's staff about the child
    teacher = await world.token(gql, world.teacher)
    refused = await _start(gql, teacher, world, world.foreign_teacher.id)
    assert refused["userErrors"][0]["field"] == ["participantIds", "0"]


async def test_an_operator_does_not_read_a_thread(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    thread_id = (await _start(gql, teacher, world, world.parent.id))["thread"]["id"]
    operator = await world.token(gql, world.operator)
    assert (await gql.data(THREAD, {"id": thread_id}, token=operator))["thread"] is None
    assert (await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": thread_id}, token=operator))[
        "node"
    ] is None
    assert (await gql.data(THREADS, {}, token=operator))["threads"]["totalCount"] == 0
    sent = (await gql.data(SEND, {"i": {"threadId": thread_id, "text": "?"}}, token=operator))["sendMessage"]
    assert sent["userErrors"][0]["code"] == "NOT_FOUND"
    # nor an outsider parent
    other = await world.token(gql, world.other_parent)
    assert (await gql.data(THREAD, {"id": thread_id}, token=other))["thread"] is None


async def test_a_participant_who_left_loses_the_thread(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    thread_id = (await _start(gql, teacher, world, world.parent.id))["thread"]["id"]
    left = (await gql.data(LEAVE, {"i": {"threadId": thread_id}}, token=parent))["leaveThread"]
    assert left["userErrors"] == []
    assert (await gql.data(THREAD, {"id": thread_id}, token=parent))["thread"] is None
    sent = (await gql.data(SEND, {"i": {"threadId": thread_id, "text": "?"}}, token=parent))["sendMessage"]
    assert sent["userErrors"][0]["code"] == "NOT_FOUND"
    async with ws_connect(ws_url) as ws:
        await ws.start(THREAD_EVENTS, {"t": thread_id}, token=parent)
        assert error_code(await ws.receive(within=2.0)) == "FORBIDDEN"


async def test_staff_whose_membership_ended_stop_hearing(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    thread_id = (await _start(gql, teacher, world, world.parent.id))["thread"]["id"]
    async with ws_connect(ws_url) as ws:
        await ws.start(THREAD_EVENTS, {"t": thread_id}, token=teacher)
        await wait_subscribed(app_services, channels.thread_messages(_pk(thread_id)))
        await session.execute(
            update(StaffMembership).where(StaffMembership.user_id == world.teacher.id).values(active=False)
        )
        await session.commit()
        await gql.data(SEND, {"i": {"threadId": thread_id, "text": "Ау"}}, token=parent)
        assert error_code(await ws.receive(within=2.0)) == "FORBIDDEN"
    assert (await gql.data(THREAD, {"id": thread_id}, token=teacher))["thread"] is None


async def test_messages_are_rate_limited(gql: GraphQLClient, world: World, app_services: AppServices) -> None:
    teacher = await world.token(gql, world.teacher)
    thread_id = (await _start(gql, teacher, world, world.parent.id))["thread"]["id"]
    limit = app_services.settings.message_limit_per_user
    for i in range(limit - 1):
        sent = (await gql.data(SEND, {"i": {"threadId": thread_id, "text": f"№{i}"}}, token=teacher))["sendMessage"]
        assert sent["userErrors"] == []
    refused = (await gql.data(SEND, {"i": {"threadId": thread_id, "text": "ещё"}}, token=teacher))["sendMessage"]
    assert refused["userErrors"][0]["code"] == "RATE_LIMITED"
    assert "Слишком много сообщений" in refused["userErrors"][0]["message"]


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


@pytest.mark.parametrize("query", ["threads", "messages"])
async def test_statement_count_does_not_grow(
    query: str,
    gql: GraphQLClient,
    session: AsyncSession,
    world: World,
    sql_counter: StatementCounter,
    app_services: AppServices,
) -> None:
    parent = await world.token(gql, world.parent)

    async def add(n: int) -> int:
        thread = None
        for _ in range(n):
            thread = await make_thread(session, school_id=world.school.id, created_by_id=world.teacher.id)
            await make_thread_participant(session, thread_id=thread.id, user_id=world.parent.id)
            await make_thread_participant(session, thread_id=thread.id, user_id=world.teacher.id)
            for _ in range(3 if query == "threads" else n):
                await make_message(session, thread_id=thread.id)
        await session.commit()
        assert thread is not None
        return thread.id

    async def count(thread_id: int) -> int:
        with sql_counter as counter:
            if query == "threads":
                await gql.data(THREADS, {}, token=parent)
            else:
                await gql.data(THREAD, {"id": gid("Thread", thread_id)}, token=parent)
        return int(counter.count)

    few = await count(await add(2))
    many = await count(await add(6))
    assert many == few


async def test_a_class_thread_reaches_the_class_families(gql: GraphQLClient, world: World) -> None:
    variables = {
        "i": {"subject": "Экскурсия", "classId": gid("SchoolClass", world.school_class.id), "text": "Едем в музей"}
    }
    # a teacher of another subject of the school, not teaching the class: refused
    other = await gql.post(START, variables, token=await world.token(gql, world.other_teacher))
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    started = (await gql.data(START, variables, token=await world.token(gql, world.teacher)))["startThread"]
    assert started["userErrors"] == []
    members = {p["user"]["id"] for p in started["thread"]["participants"]}
    assert {gid("User", world.parent.id), gid("User", world.other_parent.id)} <= members
    assert gid("User", world.foreign_teacher.id) not in members
    # both families read it; another school's teacher does not
    for parent in (world.parent, world.other_parent):
        listed = (await gql.data(THREADS, {}, token=await world.token(gql, parent)))["threads"]
        assert listed["totalCount"] == 1
    foreign = (await gql.data(THREADS, {}, token=await world.token(gql, world.foreign_teacher)))["threads"]
    assert foreign["totalCount"] == 0
