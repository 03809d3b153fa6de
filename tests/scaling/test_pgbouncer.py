"""The app behind a real pgbouncer in transaction mode (DATABASE_POOLER=pgbouncer): many
concurrent requests, many distinct statements, over fewer server connections than the
app has clients, so every transaction may land on another server connection."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import literal_column, select

from ediary_gql.db.engine import create_engine, create_read_session_factory
from ediary_gql.db.reads import DriverReads, ReadStatement
from tests.diary_support import MONDAY, School1, build_school, gid, token
from tests.scaling.conftest import DATABASE, Servers
from tests.scaling.support import app_settings, arranging, live_app
from tests.support import GraphQLClient

pytestmark = pytest.mark.postgres_only

DIARY = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) { date lessons { lesson { id } grades { value } homework { isDone } } }
}"""
JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) { rows { child { id } cells { grades { value } } } }
}"""
CHILD = """
query($id: ID!, $p: ID!) {
  child(id: $id) { id fullName averages(periodId: $p) { subject { name } average count } }
}"""
ENTER = """
mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id value } userErrors { code message } } }"""
WEEK = {"from": MONDAY.isoformat(), "to": (MONDAY + dt.timedelta(days=6)).isoformat()}


@dataclass
class Behind:
    url: str
    world: School1


@pytest.fixture(scope="module")
async def behind(scaling_servers: Servers) -> AsyncIterator[Behind]:
    async with arranging(scaling_servers.primary.url(DATABASE)) as session:
        world = await build_school(session, children=4, weeks=1)
    settings = app_settings(
        scaling_servers.root,
        scaling_servers.bouncer.url(DATABASE),
        database_pooler="pgbouncer",
        database_pool_size=12,
    )
    async with live_app(settings) as live:
        yield Behind(live.url, world)


async def test_many_concurrent_requests_through_pgbouncer(behind: Behind) -> None:
    world = behind.world
    async with httpx.AsyncClient(base_url=behind.url, timeout=30) as http:
        gql = GraphQLClient(http)
        teacher, parent = await token(gql, world.teacher), await token(gql, world.parent)
        journal = {
            "c": gid("SchoolClass", world.school_class.id),
            "s": gid("Subject", world.subject.id),
            "p": gid("Period", world.period.id),
        }
        maths = world.lessons[::2]  # the maths lessons, Monday to Friday

        def enter(k: int) -> Any:
            child, lesson = world.children[k % len(world.children)], maths[k % len(maths)]
            variables = {"i": {"childId": gid("Child", child.id), "lessonId": gid("Lesson", lesson.id), "value": "3"}}
            return gql.data(ENTER, variables, token=teacher)

        # when readers and a writer work at once, twelve client connections over three server ones
        calls = []
        for k in range(8):
            calls += [
                gql.data(DIARY, {"c": gid("Child", world.children[0].id), **WEEK}, token=parent),
                gql.data(JOURNAL, journal, token=teacher),
                gql.data(CHILD, {"id": gid("Child", world.children[0].id), "p": journal["p"]}, token=parent),
                gql.data("{ me { id } myChildren { id fullName } }", token=parent),
                enter(k),
            ]
        answers = await asyncio.gather(*calls)

        # then every one is answered without an error (gql.data asserts none), writes included
        entered = [a["enterGrade"] for a in answers if "enterGrade" in a]
        assert len(entered) == 8
        assert all(e["userErrors"] == [] and e["grade"]["value"] == "3" for e in entered)
        # and the reads after them see all eight, through whichever server connection
        rows = (await gql.data(JOURNAL, journal, token=teacher))["classJournal"]["rows"]
        threes = sum(1 for row in rows for cell in row["cells"] for g in cell["grades"] if g["value"] == "3")
        assert threes >= 8


async def _read_again_on_another_server(url: str, **engine_options: Any) -> list[BaseException]:
    """A statement read on one server connection, then, with that one held by another
    client's open transaction, read again by the same client connection: pgbouncer gives
    it another server connection, where no statement was prepared."""
    engine, holder = create_engine(url, pool_size=1, **engine_options), create_engine(url, **engine_options)
    reads = DriverReads(engine)
    statements = [ReadStatement(select(literal_column(f"{n} + 1"))) for n in range(10)]
    failures: list[BaseException] = []
    try:
        for statement in statements:
            await reads.rows(statement, {})
        async with holder.connect() as other, other.begin():
            # it gets the server connection used last (pgbouncer's idle list is LIFO)
            await other.execute(select(literal_column("1")))
            for statement in statements:
                try:
                    await reads.rows(statement, {})
                except Exception as exc:
                    failures.append(exc)
    finally:
        await engine.dispose()
        await holder.dispose()
    return failures


async def _distinct_statements(url: str) -> None:
    """Twelve clients at once, each running forty different statements on the fast read path."""
    engine = create_engine(url, pool_size=12, pooler="pgbouncer")
    reads = DriverReads(engine)
    statements = {n: ReadStatement(select(literal_column(f"{n} + 1"))) for n in range(40)}

    async def client() -> None:
        for n, statement in statements.items():
            assert (await reads.rows(statement, {}))[0][0] == n + 1

    try:
        await asyncio.gather(*(client() for _ in range(12)))
    finally:
        await engine.dispose()


async def test_named_prepared_statements_break_behind_it_and_the_setting_mends_them(
    scaling_servers: Servers,
) -> None:
    url = scaling_servers.bouncer.url(DATABASE)
    # asyncpg's cached named statements, prepared on the server connection a client had
    # before, are missing on the one pgbouncer gives it next
    failures = await _read_again_on_another_server(url)
    assert failures, "named prepared statements were expected to break behind pgbouncer"
    assert all("prepared statement" in str(f) and "does not exist" in str(f) for f in failures), failures
    # with DATABASE_POOLER=pgbouncer: no statement is named, nothing breaks
    assert await _read_again_on_another_server(url, pooler="pgbouncer") == []
    await _distinct_statements(url)
    # and the session path (SQLAlchemy's own statement cache) likewise
    engine = create_engine(scaling_servers.bouncer.url(DATABASE), pool_size=12, pooler="pgbouncer")
    sessions = create_read_session_factory(engine)

    async def client() -> None:
        for n in range(40):
            async with sessions() as session:
                assert (await session.execute(select(literal_column(f"{n} * 2")))).scalar_one() == n * 2

    try:
        await asyncio.gather(*(client() for _ in range(12)))
    finally:
        await engine.dispose()
