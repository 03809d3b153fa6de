"""Subscriptions that survive a drop: every event carries a cursor; a client that comes back
with it gets exactly what it missed, in order, each event authorized again, then live ones.
Also across server processes; an expired or unknown cursor is refused with its code."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.children import Guardianship
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import channels, cursors
from ediary_gql.events import log as event_log
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings
from tests.diary_writes_support import MONDAY, World, enter_grade, gid
from tests.factories import make_subject, make_teaching_assignment
from tests.graphql.test_two_processes import second_server  # noqa: F401 - a fixture
from tests.support import (
    GraphQLClient,
    StatementCounter,
    WsClient,
    data_of,
    error_code,
    errors_of,
    refusal_code,
    wait_subscribed,
    ws_connect,
)

GRADES = """
subscription($child: ID!, $after: String) {
  gradeEvents(childId: $child, after: $after) { cursor action grade { id value } }
}"""
SUMMARY = """
subscription($class: ID!, $date: Date!, $after: String) {
  attendanceSummary(classId: $class, date: $date, after: $after) { cursor counts { absent present } }
}"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


async def _enter(gql: GraphQLClient, world: World, lesson: Lesson, value: str) -> str:
    return await enter_grade(gql, await world.token(gql, world.teacher), world, lesson, value)


async def _follow(
    ws: WsClient, token: str, world: World, after: str | None = None, query: str = GRADES
) -> dict[str, Any]:
    variables = {"child": gid("Child", world.child.id), "after": after}
    await ws.start(query, variables, token=token)
    return variables


async def _first_grade_cursor(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson, token: str
) -> str:
    """Follow the child's grades until one arrives: its cursor (then the client drops)."""
    async with ws_connect(ws_url) as ws:
        await _follow(ws, token, world)
        await wait_subscribed(app_services, channels.child_grades(world.child.id))
        await _enter(gql, world, lesson, "3")
        event = data_of(await ws.receive())
        assert event["grade"]["value"] == "3"
        cursor: str = event["cursor"]
        return cursor


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_client_that_comes_back_gets_exactly_what_it_missed_then_live_ones(
    protocol: str, gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given a parent who saw one grade, then lost the connection
    parent = await world.token(gql, world.parent)
    cursor = await _first_grade_cursor(gql, app_services, ws_url, world, lesson, parent)
    # when three grades are entered meanwhile (and one for a classmate, not theirs)
    missed = [await _enter(gql, world, lesson, value) for value in ("4", "5", "2")]
    await gql.data(
        ENTER,
        {"i": {"childId": gid("Child", world.other_child.id), "lessonId": gid("Lesson", lesson.id), "value": "5"}},
        token=await world.token(gql, world.teacher),
    )
    # then resuming with the cursor replays exactly those three, in order
    async with ws_connect(ws_url, protocol) as ws:
        await _follow(ws, parent, world, after=cursor)
        replayed = [data_of(await ws.receive()) for _ in missed]
        assert [e["grade"]["id"] for e in replayed] == missed
        assert [e["grade"]["value"] for e in replayed] == ["4", "5", "2"]
        assert len({e["cursor"] for e in replayed} | {cursor}) == 4  # each its own cursor
        assert await ws.no_message(within=0.3)  # no duplicate, nothing else
        # and then goes on live
        live = await _enter(gql, world, lesson, "5")
        event = data_of(await ws.receive(within=2.0))
        assert event["grade"]["id"] == live
        last = event["cursor"]
    # and resuming from the last cursor owes nothing
    async with ws_connect(ws_url) as ws:
        await _follow(ws, parent, world, after=last)
        assert await ws.no_message(within=0.5)


async def test_replayed_events_are_authorized_again(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given a parent's cursor, and grades entered after it
    parent = await world.token(gql, world.parent)
    cursor = await _first_grade_cursor(gql, app_services, ws_url, world, lesson, parent)
    await _enter(gql, world, lesson, "4")
    # when the guardianship ends before they come back
    await session.execute(delete(Guardianship).where(Guardianship.parent_id == world.parent.id))
    await session.commit()
    await _enter(gql, world, lesson, "5")
    # then resuming with the cursor gives them nothing: refused
    async with ws_connect(ws_url) as ws:
        await _follow(ws, parent, world, after=cursor)
        assert refusal_code(await ws.receive()) == "FORBIDDEN"


async def test_a_replay_shows_each_viewer_only_what_is_theirs(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given the class's physics teacher, who may follow the child but does not teach maths
    physics = await make_subject(session, school_id=world.school.id, name="Физика")
    await make_teaching_assignment(
        session, teacher_id=world.other_teacher.id, class_id=world.school_class.id, subject_id=physics.id
    )
    await session.commit()
    other = await world.token(gql, world.other_teacher)
    cursor = await _first_grade_cursor(gql, app_services, ws_url, world, lesson, await world.token(gql, world.parent))
    # when maths grades were entered while they were away
    await _enter(gql, world, lesson, "4")
    await _enter(gql, world, lesson, "5")
    # then their replay holds none of them (each event read again for this viewer)
    async with ws_connect(ws_url) as ws:
        await _follow(ws, other, world, after=cursor)
        assert await ws.no_message(within=0.5)


async def test_an_expired_or_unknown_cursor_is_refused_with_its_code(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    parent = await world.token(gql, world.parent)
    cursor = await _first_grade_cursor(gql, app_services, ws_url, world, lesson, parent)
    await _enter(gql, world, lesson, "4")
    await _enter(gql, world, lesson, "5")
    # given the log pruned past the cursor (the events after it are gone)
    pruned = await event_log.prune(app_services.session_factory, older_than=utcnow() + dt.timedelta(days=1))
    assert pruned >= 3
    await _enter(gql, world, lesson, "2")
    # then resuming with it ends the stream: CURSOR_EXPIRED, the client knows to reload
    async with ws_connect(ws_url) as ws:
        await _follow(ws, parent, world, after=cursor)
        message = await ws.receive()
        assert error_code(message) == "CURSOR_EXPIRED"
    # a cursor beyond the log's end (another database's) is refused alike
    head = await event_log.head(app_services.session_factory)
    async with ws_connect(ws_url) as ws:
        await _follow(ws, parent, world, after=cursors.encode(head + 1000))
        assert error_code(await ws.receive()) == "CURSOR_EXPIRED"
    # and text that is no cursor at all is refused before the stream starts, naming the argument
    async with ws_connect(ws_url) as ws:
        await _follow(ws, parent, world, after="not-a-cursor")
        message = await ws.receive()
        assert refusal_code(message) == "INVALID"
        assert errors_of(message)[0]["extensions"]["field"] == ["after"]


async def test_a_resumed_state_feed_sends_the_state_once_if_it_changed(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given the class's teacher watching the day's summary; its first state has a cursor
    teacher = await world.token(gql, world.teacher)
    variables = {"class": gid("SchoolClass", world.school_class.id), "date": MONDAY.isoformat(), "after": None}
    async with ws_connect(ws_url) as ws:
        await ws.start(SUMMARY, variables, token=teacher)
        cursor = data_of(await ws.receive())["cursor"]
    # when nothing changed, resuming sends nothing
    async with ws_connect(ws_url) as ws:
        await ws.start(SUMMARY, {**variables, "after": cursor}, token=teacher)
        assert await ws.no_message(within=0.5)
    # when three marks changed while away, resuming sends the state as it is now, once
    for status in ("ABSENT", "PRESENT", "ABSENT"):
        data = await gql.data(
            MARK,
            {
                "i": {
                    "lessonId": gid("Lesson", lesson.id),
                    "marks": [{"childId": gid("Child", world.child.id), "status": status}],
                }
            },
            token=teacher,
        )
        assert data["markAttendance"]["userErrors"] == []
    async with ws_connect(ws_url) as ws:
        await ws.start(SUMMARY, {**variables, "after": cursor}, token=teacher)
        state = data_of(await ws.receive())
        assert state["counts"]["absent"] == 1
        assert state["cursor"] != cursor
        assert await ws.no_message(within=0.5)


async def test_the_event_typed_twins_carry_cursors(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World
) -> None:
    # notificationEvents: the deprecated notificationReceived's twin
    parent = await world.token(gql, world.parent)
    query = "subscription($after: String) { notificationEvents(after: $after) { cursor notification { title } } }"
    async with ws_connect(ws_url) as ws:
        await ws.start(query, {"after": None}, token=parent)
        await wait_subscribed(app_services, channels.user_notifications(world.parent.id))
        async with unit_of_work(app_services.session_factory, app_services.bus) as s:
            await notify(s, user=world.parent, kind=NotificationKind.SYSTEM, title="Первое", body="")
        first = data_of(await ws.receive())
        assert first["notification"]["title"] == "Первое"
    async with unit_of_work(app_services.session_factory, app_services.bus) as s:
        await notify(s, user=world.parent, kind=NotificationKind.SYSTEM, title="Пропущенное", body="")
    async with ws_connect(ws_url) as ws:
        await ws.start(query, {"after": first["cursor"]}, token=parent)
        assert data_of(await ws.receive())["notification"]["title"] == "Пропущенное"
    # another user resuming from the same cursor hears none of it
    async with ws_connect(ws_url) as ws:
        await ws.start(query, {"after": first["cursor"]}, token=await world.token(gql, world.other_parent))
        assert await ws.no_message(within=0.5)


@pytest.mark.redis_only
async def test_a_client_resumes_on_another_server_process(
    gql: GraphQLClient,
    settings: Settings,
    app_services: AppServices,
    ws_url: str,
    world: World,
    lesson: Lesson,
    second_server: str,  # noqa: F811 - the fixture imported above
) -> None:
    # given a cursor from this process, and grades entered after it through this process
    parent = await world.token(gql, world.parent)
    cursor = await _first_grade_cursor(gql, app_services, ws_url, world, lesson, parent)
    missed = [await _enter(gql, world, lesson, value) for value in ("4", "5")]
    # when the client comes back on the other process
    async with ws_connect(second_server.replace("http://", "ws://")) as ws:
        await _follow(ws, parent, world, after=cursor)
        # then it gets what it missed, in order, then what this process commits live
        assert [data_of(await ws.receive())["grade"]["id"] for _ in missed] == missed
        live = await _enter(gql, world, lesson, "2")
        assert data_of(await ws.receive(within=3.0))["grade"]["id"] == live
        assert await ws.no_message(within=0.3)


async def _statements_for_one_grade(
    gql: GraphQLClient,
    app_services: AppServices,
    ws_url: str,
    world: World,
    lesson: Lesson,
    sql_counter: StatementCounter,
    followers: int,
) -> int:
    parent = await world.token(gql, world.parent)
    await world.token(gql, world.teacher)  # signed in before counting
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(ws_connect(ws_url)) for _ in range(followers)]
        for ws in sockets:
            await _follow(ws, parent, world)
        await wait_subscribed(app_services, channels.child_grades(world.child.id), followers)
        await asyncio.sleep(0.2)  # set-up reads are done
        with sql_counter:
            grade_id = await _enter(gql, world, lesson, "4")
            for ws in sockets:
                assert data_of(await ws.receive())["grade"]["id"] == grade_id
        return sql_counter.count


async def test_an_events_reads_do_not_grow_with_its_subscribers(
    gql: GraphQLClient,
    app_services: AppServices,
    ws_url: str,
    world: World,
    lesson: Lesson,
    sql_counter: StatementCounter,
) -> None:
    # one grade heard by 1 subscriber, then by 6: the rows behind it are read once per event
    one = await _statements_for_one_grade(gql, app_services, ws_url, world, lesson, sql_counter, 1)
    six = await _statements_for_one_grade(gql, app_services, ws_url, world, lesson, sql_counter, 6)
    assert six == one, (one, six)


UNREAD_EVENTS = "subscription($t: ID!) { threadEvents(threadId: $t) { action cursor thread { unreadCount } } }"
START = """mutation($i: StartThreadInput!) { startThread(input: $i) { thread { id } userErrors { code } } }"""
SEND = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { userErrors { code } } }"


async def test_one_response_per_event_and_viewer_never_another_viewers(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World
) -> None:
    # given a thread of a teacher and a parent, each following it on two screens
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = await gql.data(
        START,
        {
            "i": {
                "subject": "Об успеваемости",
                "childId": gid("Child", world.child.id),
                "participantIds": [gid("User", world.parent.id)],
                "text": "Здравствуйте!",
            }
        },
        token=teacher,
    )
    thread_id = started["startThread"]["thread"]["id"]
    async with AsyncExitStack() as stack:
        screens = {}
        for who, token in (("teacher", teacher), ("parent", parent)):
            for n in range(2):
                ws = await stack.enter_async_context(ws_connect(ws_url))
                await ws.start(UNREAD_EVENTS, {"t": thread_id}, token=token)
                screens[(who, n)] = ws
        await wait_subscribed(app_services, channels.thread_messages(int(_pk(thread_id))), 4)
        # when the teacher writes again
        sent = await gql.data(SEND, {"i": {"threadId": thread_id, "text": "Ещё вопрос"}}, token=teacher)
        assert sent["sendMessage"]["userErrors"] == []
        heard = {key: data_of(await ws.receive()) for key, ws in screens.items()}
    # then each viewer's screens show the same answer, and each viewer their own unread count
    assert heard[("teacher", 0)] == heard[("teacher", 1)]
    assert heard[("parent", 0)] == heard[("parent", 1)]
    assert heard[("teacher", 0)]["thread"]["unreadCount"] == 0
    assert heard[("parent", 0)]["thread"]["unreadCount"] == 2
    assert heard[("teacher", 0)]["cursor"] == heard[("parent", 0)]["cursor"]


def _pk(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]
