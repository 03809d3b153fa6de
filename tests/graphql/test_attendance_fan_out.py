"""attendanceSummary and attendanceEvents with many subscribers over real WebSockets:
one change reaches every subscriber, the statements it costs do not grow with their
number, and each subscriber is still checked on its own (its session, its right)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.classes import TeachingAssignment
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import AuthSession, User
from ediary_gql.events import channels
from tests.diary_writes_support import MONDAY, PASSWORD, World, gid
from tests.factories import make_teacher, make_teaching_assignment
from tests.support import GraphQLClient, StatementCounter, WsClient, data_of, error_code, wait_subscribed, ws_connect

SUMMARY = """
subscription($class: ID!, $date: Date!) {
  attendanceSummary(classId: $class, date: $date) { lessons children counts { present absent sick excused unmarked } }
}"""
EVENTS = "subscription($class: ID!) { attendanceEvents(classId: $class) { lesson { id } marks { status } } }"
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"


async def _teachers(session: AsyncSession, world: World, count: int) -> list[User]:
    """More teachers of the class, each with a login of their own."""
    teachers = []
    for _ in range(count):
        teacher = await make_teacher(session, school_id=world.school.id, password=PASSWORD)
        await make_teaching_assignment(
            session, teacher_id=teacher.id, class_id=world.school_class.id, subject_id=world.subject.id
        )
        teachers.append(teacher)
    await session.commit()
    return teachers


async def _mark(gql: GraphQLClient, token: str, lesson: Lesson, child_id: int, status: str) -> None:
    data = await gql.data(
        MARK,
        {"i": {"lessonId": gid("Lesson", lesson.id), "marks": [{"childId": gid("Child", child_id), "status": status}]}},
        token=token,
    )
    assert data["markAttendance"]["userErrors"] == []


class Watchers:
    """Open subscriptions of one class, each on its own WebSocket and session."""

    def __init__(self, stack: AsyncExitStack, ws_url: str, services: AppServices, world: World) -> None:
        self._stack = stack
        self._ws_url = ws_url
        self._services = services
        self._world = world
        self.clients: list[WsClient] = []

    async def open(self, tokens: list[str], query: str, *, initial: bool) -> list[WsClient]:
        variables = {"class": gid("SchoolClass", self._world.school_class.id), "date": MONDAY.isoformat()}
        opened = []
        for token in tokens:
            ws = await self._stack.enter_async_context(ws_connect(self._ws_url))
            await ws.start(query, variables, token=token)
            if initial:
                data_of(await ws.receive(within=5.0), "attendanceSummary")
            opened.append(ws)
        self.clients += opened
        channel = channels.class_attendance(self._world.school_class.id)
        await wait_subscribed(self._services, channel, count=len(self.clients))
        return opened


@asynccontextmanager
async def _watchers(ws_url: str, services: AppServices, world: World) -> AsyncIterator[Watchers]:
    async with AsyncExitStack() as stack:
        yield Watchers(stack, ws_url, services, world)


async def _all_hear(change: Callable[[], Any], clients: list[WsClient], name: str) -> list[dict[str, Any]]:
    await change()
    return [data_of(message, name) for message in await asyncio.gather(*(ws.receive(within=5.0) for ws in clients))]


async def _statements_of_one_change(
    sql_counter: StatementCounter, change: Callable[[], Any], clients: list[WsClient], name: str
) -> tuple[int, list[dict[str, Any]]]:
    """Statements run from a change until every client has heard of it, and what they heard.
    The event log's relay is left out: how many passes it makes in that time (each finding
    the change's events or nothing) depends on when it wakes, not on the subscribers."""
    with sql_counter:
        heard = await _all_hear(change, clients, name)
    return sum(1 for statement in sql_counter.statements if not _is_relay(statement)), heard


def _is_relay(statement: str) -> bool:
    """events/log.place_in: the head's lock and update, and the positions it gives."""
    flat = " ".join(statement.split()).lower()
    return (
        "event_log_head" in flat
        or ("event_log" in flat and "position is null" in flat)
        or (flat.startswith("update event_log set position"))
    )


async def test_every_subscriber_gets_the_new_summary_for_statements_that_do_not_grow_with_their_number(
    gql: GraphQLClient,
    session: AsyncSession,
    app_services: AppServices,
    sql_counter: StatementCounter,
    ws_url: str,
    world: World,
    lesson: Lesson,
) -> None:
    # given 2 subscribers, then 15: teachers of the class and the admin on several devices
    teachers = await _teachers(session, world, 10)
    tokens = [await world.token(gql, user) for user in [world.teacher, *teachers]]
    tokens += [await gql.sign_in(world.admin.email or "", PASSWORD) for _ in range(4)]
    marker = await world.token(gql, world.admin)
    await _mark(gql, marker, lesson, world.child.id, "PRESENT")
    async with _watchers(ws_url, app_services, world) as watchers:
        few = await watchers.open(tokens[:2], SUMMARY, initial=True)

        # when one change lands with 2 subscribers, and an identical one with 15
        def change(status: str) -> Callable[[], Any]:
            return lambda: _mark(gql, marker, lesson, world.child.id, status)

        with_few, heard = await _statements_of_one_change(sql_counter, change("SICK"), few, "attendanceSummary")
        assert [h["counts"]["sick"] for h in heard] == [1, 1]
        await watchers.open(tokens[2:], SUMMARY, initial=True)
        assert len(watchers.clients) == 15
        with_many, heard = await _statements_of_one_change(
            sql_counter, change("EXCUSED"), watchers.clients, "attendanceSummary"
        )

    # then all 15 have the new counts, and the change cost the same statements as with 2
    assert [(h["counts"]["excused"], h["counts"]["sick"], h["counts"]["unmarked"]) for h in heard] == [(1, 0, 1)] * 15
    assert with_many == with_few, sql_counter.statements


async def test_attendance_events_reach_every_subscriber_for_statements_that_do_not_grow_with_their_number(
    gql: GraphQLClient,
    session: AsyncSession,
    app_services: AppServices,
    sql_counter: StatementCounter,
    ws_url: str,
    world: World,
    lesson: Lesson,
) -> None:
    teachers = await _teachers(session, world, 9)
    tokens = [await world.token(gql, user) for user in [world.teacher, world.admin, *teachers]]
    marker = await world.token(gql, world.admin)
    await _mark(gql, marker, lesson, world.child.id, "PRESENT")
    async with _watchers(ws_url, app_services, world) as watchers:

        def change(status: str) -> Callable[[], Any]:
            return lambda: _mark(gql, marker, lesson, world.child.id, status)

        # a change heard first: every stream is past its start, whose reads are not the change's
        few = await watchers.open(tokens[:2], EVENTS, initial=False)
        await _all_hear(change("SICK"), few, "attendanceEvents")
        with_few, _ = await _statements_of_one_change(sql_counter, change("PRESENT"), few, "attendanceEvents")
        await watchers.open(tokens[2:], EVENTS, initial=False)
        await _all_hear(change("EXCUSED"), watchers.clients, "attendanceEvents")
        with_many, heard = await _statements_of_one_change(
            sql_counter, change("PRESENT"), watchers.clients, "attendanceEvents"
        )
    assert [h["marks"] for h in heard] == [[{"status": "PRESENT"}]] * 11
    assert with_many == with_few, sql_counter.statements


async def test_a_revoked_session_ends_its_own_stream_while_the_others_go_on(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    (colleague,) = await _teachers(session, world, 1)
    marker = await world.token(gql, world.admin)
    async with _watchers(ws_url, app_services, world) as watchers:
        revoked, *others = await watchers.open(
            [await world.token(gql, u) for u in (world.teacher, colleague, world.admin)], SUMMARY, initial=True
        )
        # given the teacher's session ended in the database, with no sign-out event to tell the stream
        await session.execute(
            update(AuthSession).where(AuthSession.user_id == world.teacher.id).values(revoked_at=utcnow())
        )
        await session.commit()

        # when the next change lands, the teacher's stream ends, checked with that event
        await _mark(gql, marker, lesson, world.child.id, "ABSENT")
        ended = await revoked.receive(within=5.0)
        assert ended["type"] == "next", ended  # a stream that runs ends with a result carrying the error
        assert error_code(ended) == "TOKEN_REVOKED"
        assert (await revoked.receive(within=5.0))["type"] == "complete"
        for ws in others:
            assert data_of(await ws.receive(within=5.0), "attendanceSummary")["counts"]["absent"] == 1

        # and the others go on hearing every change
        await _mark(gql, marker, lesson, world.other_child.id, "ABSENT")
        for ws in others:
            assert data_of(await ws.receive(within=5.0), "attendanceSummary")["counts"]["absent"] == 2
        assert await revoked.no_message()


async def test_who_lost_the_right_is_refused_at_the_next_event_while_the_others_go_on(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    unassigned, dismissed, kept = await _teachers(session, world, 3)
    marker = await world.token(gql, world.admin)
    async with _watchers(ws_url, app_services, world) as watchers:
        lost_class, lost_school, *others = await watchers.open(
            [await world.token(gql, u) for u in (unassigned, dismissed, kept, world.admin)], SUMMARY, initial=True
        )
        # given one teacher no longer teaches the class, and another no longer works at the school
        await session.execute(delete(TeachingAssignment).where(TeachingAssignment.teacher_id == unassigned.id))
        await session.execute(
            update(StaffMembership).where(StaffMembership.user_id == dismissed.id).values(active=False)
        )
        await session.commit()

        # when the next change lands, their streams end; the others get the new summary
        await _mark(gql, marker, lesson, world.child.id, "SICK")
        for ws in (lost_class, lost_school):
            assert error_code(await ws.receive(within=5.0)) == "FORBIDDEN"
            assert (await ws.receive(within=5.0))["type"] == "complete"
        for ws in others:
            assert data_of(await ws.receive(within=5.0), "attendanceSummary")["counts"]["sick"] == 1
