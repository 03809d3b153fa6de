"""Live events survive their backends' faults: a server process of its own keeps its
streams through a restart of Redis and of PostgreSQL (each the test's own, restarted by
it), and a subscriber too slow for its buffer is told where to resume. In every case a
client resuming with its cursor gets every committed event, in order, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import StaffRole, UserStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import grades as grade_service
from ediary_gql.settings import Settings
from tests.diary_writes_support import World, gid, make_world
from tests.fault_support import own_postgres, own_redis
from tests.support import GraphQLClient, WsClient, data_of, errors_of, server_process, ws_connect

SUBSCRIPTION = """
subscription($child: ID!, $after: String) {
  gradeEvents(childId: $child, after: $after) { cursor action grade { id value } }
}"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
ME = "{ me { id } }"
# seconds after a backend is back by which everything must have arrived; a loaded machine
# reconnects slowly, and a run that works waits only until the events are in
BACK_WITHIN = 15.0


class Server:
    """A server process of the test's own, and what a client needs of it."""

    def __init__(self, url: str, http: httpx.AsyncClient, world: World, lesson: Lesson) -> None:
        self.url = url
        self.ws_url = url.replace("http://", "ws://")
        self.gql = GraphQLClient(http)
        self.http = http
        self.world = world
        self.lesson = lesson

    async def enter(self, value: str = "5") -> str:
        """A grade for the world's child entered by the teacher; its ID."""
        world = self.world
        data = await self.gql.data(
            ENTER,
            {"i": {"childId": gid("Child", world.child.id), "lessonId": gid("Lesson", self.lesson.id), "value": value}},
            token=await world.token(self.gql, world.teacher),
        )
        assert data["enterGrade"]["userErrors"] == [], data
        grade_id: str = data["enterGrade"]["grade"]["id"]
        return grade_id

    async def subscribe(self, ws: WsClient, after: str | None = None) -> None:
        """The parent follows the child's grades (from `after`, if given) and listens."""
        token = await self.world.token(self.gql, self.world.parent)
        before = await self.subscribers()
        await ws.start(SUBSCRIPTION, {"child": gid("Child", self.world.child.id), "after": after}, token=token)
        if after is None:  # nothing to replay: wait until it listens, so no event falls before it
            await self.wait_subscribers(before + 1)

    async def subscribers(self) -> int:
        body = (await self.http.get("/healthz")).json()
        count: int = body["subscribers"]
        return count

    async def wait_subscribers(self, count: int) -> None:
        for _ in range(300):
            if await self.subscribers() >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the server has {await self.subscribers()} subscribers listening, not {count}")


@asynccontextmanager
async def _server(settings: Settings, world: World, lesson: Lesson, **env: str) -> AsyncIterator[Server]:
    async with server_process(settings, **env) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Server(url, http, world, lesson)


async def _world(session: AsyncSession) -> tuple[World, Lesson]:
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    return world, lesson


async def _drain(ws: WsClient, count: int, within: float) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to `count` events of the stream, waiting at most `within` seconds in all; and the
    message that ended the stream instead (an error, a completion), if one did."""
    events: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(events) < count:
        left = deadline - loop.time()
        if left <= 0:
            break
        try:
            message = await ws.receive(within=left)
        except TimeoutError:
            break
        if message["type"] in ("next", "data") and "errors" not in message["payload"]:
            events.append(data_of(message, "gradeEvents"))
        else:
            return events, message
    return events, None


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [event["grade"]["id"] for event in events]


async def _resumed(server: Server, after: str, expected: list[str], within: float) -> list[dict[str, Any]]:
    """What a new connection resuming `after` is sent: exactly `expected`, in order, and
    nothing more; the events. A stream the database cut (a pooled connection that died
    with a restart) ends STREAM_INTERRUPTED with the cursor it reached: the client
    resumes from there once more, as clients are told to."""
    events: list[dict[str, Any]] = []
    for _attempt in range(2):
        async with ws_connect(server.ws_url) as ws:
            await server.subscribe(ws, after=after)
            got, ended = await _drain(ws, len(expected) - len(events), within)
            events.extend(got)
            if ended is not None and errors_of(ended)[0]["extensions"].get("code") == "STREAM_INTERRUPTED":
                after = errors_of(ended)[0]["extensions"]["cursor"]
                continue
            assert ended is None, f"the resumed stream ended: {ended}"
            assert _ids(events) == expected, "a resumed stream must bring every event missed, in order, once"
            assert await ws.no_message(within=0.5)
            return events
    raise AssertionError("the resumed stream was interrupted twice")


async def _caught_up(server: Server, ws: WsClient, last_cursor: str, expected: list[str], within: float) -> None:
    """The subscription left open through the fault brings `expected` in order, once; if
    the fault ended it instead (an error, a completion), what it brought before is a
    prefix, and resuming from the last cursor it gave brings the rest."""
    events, ended = await _drain(ws, len(expected), within)
    assert _ids(events) == expected[: len(events)], "an open stream must not repeat, reorder or skip events"
    if ended is None:
        assert _ids(events) == expected, f"the open stream brought {len(events)} of {len(expected)} events"
        assert await ws.no_message(within=0.3)
        return
    await _resumed(server, events[-1]["cursor"] if events else last_cursor, expected[len(events) :], within)


async def test_own_redis_restarts_empty_on_its_port() -> None:
    # the harness itself: a client of the test's Redis reconnects to it after a restart
    async with own_redis() as redis:
        client = aioredis.from_url(redis.url)
        try:
            await client.set("key", "value")
            await redis.restart(down_for=0.2)
            assert await client.get("key") is None  # the same port, nothing persisted
        finally:
            await client.aclose()
    assert not redis.running


@pytest.mark.postgres_only
async def test_own_postgres_restarts_with_its_data() -> None:
    # the harness itself: the cluster's connections are cut by a restart, its data kept
    async with own_postgres(migrate=False) as pg:
        conn = await asyncpg.connect(pg.dsn)
        await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
        await pg.restart(down_for=0.2)
        with pytest.raises((asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.InterfaceError)):
            await conn.fetchval("SELECT 1")
        await conn.close()
        conn = await asyncpg.connect(pg.dsn)
        try:
            assert await conn.fetchval("SELECT n FROM kept") == 1
        finally:
            await conn.close()
        folder = pg.folder
    assert not folder.exists()


@pytest.mark.parametrize(
    "poll_seconds",
    [
        pytest.param("1", id="polling"),
        # no poll within the test: only the bus coming back can wake the server's tail
        pytest.param("60", id="wake-ups-only"),
    ],
)
async def test_a_redis_restart_mid_stream_loses_no_event(
    settings: Settings, session: AsyncSession, poll_seconds: str
) -> None:
    # given a server process on the suite's database and a Redis of the test's own,
    # and the parent following the child's grades there, at a cursor
    world, lesson = await _world(session)
    async with (
        own_redis() as redis,
        _server(settings, world, lesson, BROADCAST_URL=redis.url, EVENT_POLL_SECONDS=poll_seconds) as server,
    ):
        async with ws_connect(server.ws_url) as ws:
            await server.subscribe(ws)
            await server.enter("5")
            cursor = data_of(await ws.receive(within=2.0), "gradeEvents")["cursor"]

            # when Redis goes down, grades are committed while it is away, it comes
            # back (empty, as after a crash), and more are committed at once
            await redis.stop()
            during = [await server.enter(value) for value in "432"]
            await asyncio.sleep(0.5)
            await redis.start()
            back_at = asyncio.get_running_loop().time()
            after = [await server.enter(value) for value in "54"]

            # then a client resuming with the cursor, on a new connection, gets every
            # one of them, in order, once, within seconds of Redis being back
            await _resumed(server, cursor, during + after, within=BACK_WITHIN)
            assert asyncio.get_running_loop().time() - back_at < BACK_WITHIN
            # and so does the subscription left open through it
            await _caught_up(server, ws, cursor, during + after, within=BACK_WITHIN)

        # and a stream started now is live: a new grade reaches it
        async with ws_connect(server.ws_url) as fresh:
            await server.subscribe(fresh)
            grade_id = await server.enter("3")
            assert _ids([data_of(await fresh.receive(within=BACK_WITHIN), "gradeEvents")]) == [grade_id]


@pytest.mark.postgres_only  # it brings its own PostgreSQL, but keeps the SQLite run fast
async def test_a_postgresql_restart_is_survived(settings: Settings) -> None:
    # given a server process on a PostgreSQL (and a Redis) of the test's own
    async with own_postgres() as pg, own_redis() as redis:
        engine = create_engine(pg.url)
        try:
            async with create_session_factory(engine)() as s:
                world, lesson = await _world(s)
        finally:
            await engine.dispose()
        async with _server(settings, world, lesson, DATABASE_URL=pg.url, BROADCAST_URL=redis.url) as server:
            teacher = await world.token(server.gql, world.teacher)
            async with ws_connect(server.ws_url) as ws:
                await server.subscribe(ws)
                await server.enter("5")
                cursor = data_of(await ws.receive(within=2.0), "gradeEvents")["cursor"]
                before = [await server.enter(value) for value in "43"]

                # when PostgreSQL restarts (every connection to it cut)
                await pg.restart(down_for=0.5)
                back_at = asyncio.get_running_loop().time()

                # then HTTP requests succeed again by themselves, within seconds
                body: dict[str, Any] = {}
                while True:
                    try:
                        body = await server.gql.post(ME, token=teacher)
                        if "errors" not in body and body["data"]["me"] is not None:
                            break
                    except (httpx.TransportError, AssertionError):
                        pass
                    assert asyncio.get_running_loop().time() - back_at < BACK_WITHIN, (
                        f"requests still fail {BACK_WITHIN} s after PostgreSQL is back: {body}"
                    )
                    await asyncio.sleep(0.1)
                after = [await server.enter(value) for value in "21"]

                # and no committed event is lost: resuming with the cursor brings all of them
                await _resumed(server, cursor, before + after, within=BACK_WITHIN)
                # nor by the subscription left open through it
                await _caught_up(server, ws, cursor, before + after, within=BACK_WITHIN)


def _teacher(world: World) -> Actor:
    return Actor(
        user_id=world.teacher.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(world.school.id, StaffRole.TEACHER)}),
    )


async def test_a_slow_subscriber_is_told_where_to_resume(
    settings: Settings, session: AsyncSession, app_services: AppServices
) -> None:
    # given a server process keeping 3 live events per channel, and the parent following
    # the child's grades there, at a cursor
    world, lesson = await _world(session)
    async with _server(settings, world, lesson, EVENT_BACKLOG="3") as server:
        async with ws_connect(server.ws_url) as ws:
            await server.subscribe(ws)
            await server.enter("5")
            cursor = data_of(await ws.receive(within=2.0), "gradeEvents")["cursor"]

            # when 10 grades of the child are committed in one burst (one transaction: the
            # server reads them in one batch, more than its buffer keeps)
            burst: list[str] = []
            async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
                for n in range(10):
                    grade = await grade_service.enter_grade(
                        tx,
                        actor=_teacher(world),
                        data=grade_service.GradeData(
                            child_id=world.child.id, value="54321"[n % 5], lesson_id=lesson.id
                        ),
                    )
                    burst.append(gid("Grade", grade.id))

            # then the stream ends with SUBSCRIBER_TOO_SLOW and the last cursor it delivered
            delivered, ended = await _drain(ws, len(burst), within=5.0)
            assert ended is not None, f"no overflow: all {len(delivered)} events delivered"
            (error,) = errors_of(ended)
            assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW", error
            assert _ids(delivered) == burst[: len(delivered)]
            resume_at = error["extensions"]["cursor"]
            assert resume_at == (delivered[-1]["cursor"] if delivered else cursor)
            assert (await ws.receive(within=2.0))["type"] == "complete"

        # and resuming with that cursor delivers the rest, in order, with no duplicates
        rest = await _resumed(server, resume_at, burst[len(delivered) :], within=5.0)
        assert [e["action"] for e in rest] == ["CREATED"] * len(rest)
