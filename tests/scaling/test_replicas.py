"""Read replicas: a primary and two hot standbys streaming from it, started by the test.

The diary is read on a replica (their statement logs show it); a client reads its own
write at once, while the replicas are held back from replaying it; a replica stopped
mid-run costs no request."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.users import AuthSession
from ediary_gql.events import channels
from tests.diary_support import MONDAY, PASSWORD, School1, build_school, gid, token
from tests.factories import make_user
from tests.scaling import servers
from tests.scaling.conftest import DATABASE, Servers
from tests.scaling.servers import Cluster
from tests.scaling.support import LiveApp, app_settings, arranging, live_app
from tests.support import GraphQLClient, data_of, wait_subscribed, ws_connect

pytestmark = pytest.mark.postgres_only

DIARY = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) {
    date
    lessons { lesson { id } grades { id value } homework { isDone } attendance { status } }
  }
}"""
JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    rows { child { id } cells { lessonId grades { value comment } } }
  }
}"""
GRADE_EVENTS = """
subscription($child: ID!) { gradeEvents(childId: $child) { action grade { id value } } }"""
ENTER = """
mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code message } } }"""
WEEK = {"from": MONDAY.isoformat(), "to": (MONDAY + dt.timedelta(days=6)).isoformat()}
# a log entry begins with its time; a diary statement reads the lessons, the token check none
ENTRY = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d)")
STATEMENT = re.compile(r"LOG:  (statement|execute [^:]*):")
LESSONS = re.compile(r"\blessons\b")


@dataclass
class Setup:
    primary: Cluster
    replicas: list[Cluster]
    live: LiveApp
    world: School1


@pytest.fixture(scope="module")
async def setup(scaling_servers: Servers) -> AsyncIterator[Setup]:
    primary, replicas = scaling_servers.primary, scaling_servers.replicas
    async with arranging(primary.url(DATABASE)) as session:
        world = await build_school(session, children=2, weeks=1)
    settings = app_settings(
        scaling_servers.root, primary.url(DATABASE), database_replica_urls=[r.url(DATABASE) for r in replicas]
    )
    async with live_app(settings) as live:
        yield Setup(primary, replicas, live, world)


@pytest.fixture
async def gql(setup: Setup) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=setup.live.url, timeout=20) as http:
        yield GraphQLClient(http)


def _replayed(setup: Setup, replicas: list[Cluster] | None = None) -> None:
    for replica in replicas if replicas is not None else setup.replicas:
        servers.wait_replayed(setup.primary, replica)


class Logs:
    """What each cluster's statement log gained since it was made."""

    def __init__(self, *clusters: Cluster) -> None:
        self._from = {c.name: len(c.log_text()) for c in clusters}
        self._clusters = clusters

    def gained(self) -> dict[str, str]:
        return {c.name: c.log_text()[self._from[c.name] :] for c in self._clusters}

    def lessons_read(self) -> dict[str, int]:
        return {
            name: sum(1 for entry in ENTRY.split(text) if STATEMENT.search(entry) and LESSONS.search(entry))
            for name, text in self.gained().items()
        }


def _diary_vars(setup: Setup) -> dict[str, str]:
    return {"c": gid("Child", setup.world.children[0].id), **WEEK}


async def test_the_diary_is_read_on_a_replica(setup: Setup, gql: GraphQLClient) -> None:
    # given a parent signed in, and the replicas up to date
    parent = await token(gql, setup.world.parent)
    _replayed(setup)

    # when the parent reads the diary, twice
    logs = Logs(setup.primary, *setup.replicas)
    for _ in range(2):
        data = await gql.data(DIARY, _diary_vars(setup), token=parent)
        assert len(data["diary"]) == 5
        assert sorted(g["value"] for g in data["diary"][0]["lessons"][0]["grades"]) == ["4", "5"]

    # then the replicas ran the diary's statements, and the primary none
    read = logs.lessons_read()
    assert read["primary"] == 0, read
    assert read["replica1"] + read["replica2"] == 2, read


async def test_a_client_reads_its_own_write_while_the_replicas_lag(setup: Setup, gql: GraphQLClient) -> None:
    world = setup.world
    teacher, parent = await token(gql, world.teacher), await token(gql, world.parent)
    async with arranging(setup.primary.url(DATABASE)) as session:
        someone = await make_user(session, password=PASSWORD)
        await session.commit()
    other = await token(gql, someone)  # a session the replicas will have
    _replayed(setup)
    async with AsyncExitStack() as stack:
        # given replicas that replay each commit only five seconds after it (until the test ends)
        stack.callback(_no_delay, setup)
        for replica in setup.replicas:
            replica.set_option("recovery_min_apply_delay = '5s'")
        await asyncio.sleep(0.3)  # the reload reaches the startup process
        # and the parent following the child's grades
        ws = await stack.enter_async_context(ws_connect(setup.live.url.replace("http://", "ws://")))
        await ws.start(GRADE_EVENTS, {"child": gid("Child", world.children[0].id)}, token=parent)
        await wait_subscribed(setup.live.services, channels.child_grades(world.children[0].id))

        # when the teacher enters a grade and at once reads the class journal
        lesson = world.lessons[2]
        entered = await gql.data(
            ENTER,
            {
                "i": {
                    "childId": gid("Child", world.children[0].id),
                    "lessonId": gid("Lesson", lesson.id),
                    "value": "2",
                    "comment": "после замены",
                }
            },
            token=teacher,
        )
        assert entered["enterGrade"]["userErrors"] == []
        grade_id = entered["enterGrade"]["grade"]["id"]
        logs = Logs(setup.primary, *setup.replicas)
        journal = (await gql.data(JOURNAL, _journal_vars(world), token=teacher))["classJournal"]

        # then the journal has the new grade: it was read on the primary
        row = next(r for r in journal["rows"] if r["child"]["id"] == gid("Child", world.children[0].id))
        cell = next(c for c in row["cells"] if c["lessonId"] == gid("Lesson", lesson.id))
        assert {"value": "2", "comment": "после замены"} in cell["grades"]
        assert logs.lessons_read()["primary"] > 0

        # while the replicas have not replayed it yet: a reader who wrote nothing still
        # reads there, and sees the diary as it was
        ids = await _grade_ids_in_diary(gql, setup, parent)
        assert grade_id not in ids
        unreplayed = "SELECT count(*) FROM grades WHERE comment = 'после замены'"
        assert [r.psql(unreplayed, DATABASE) for r in setup.replicas] == ["0", "0"]

        # and the parent's subscription, told of someone else's commit, reads it on the primary
        event = data_of(await ws.receive(within=1.0))
        assert event["action"] == "CREATED"
        assert (event["grade"]["id"], event["grade"]["value"]) == (grade_id, "2")

        # and a session ended by someone else (a password reset, an admin) ends at once,
        # though no replica has replayed it: tokens are checked on the primary
        assert (await gql.post("{ me { id } }", token=other)).get("errors") is None
        async with arranging(setup.primary.url(DATABASE)) as session:
            await session.execute(
                update(AuthSession).where(AuthSession.user_id == someone.id).values(revoked_at=utcnow())
            )
            await session.commit()
        refused = await gql.post("{ me { id } }", token=other)
        assert refused["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED", refused
    _replayed(setup)
    # once they have, every reader sees it
    assert grade_id in await _grade_ids_in_diary(gql, setup, parent)


async def test_a_stopped_replica_costs_no_request(setup: Setup, gql: GraphQLClient) -> None:
    parent = await token(gql, setup.world.parent)
    _replayed(setup)
    first, second = setup.replicas
    # given the first replica stopped mid-run
    first.stop("fast")
    try:
        # when the parent reads the diary, again and again
        logs = Logs(setup.primary, second)
        for _ in range(4):
            data = await gql.data(DIARY, _diary_vars(setup), token=parent)
            assert len(data["diary"]) == 5
        # then every read succeeds, on the replica that is left
        read = logs.lessons_read()
        assert read["replica2"] >= 4, read
        assert read["primary"] == 0, read

        # and with the second one stopped as well, on the primary
        second.stop("fast")
        logs = Logs(setup.primary)
        for _ in range(3):
            data = await gql.data(DIARY, _diary_vars(setup), token=parent)
            assert len(data["diary"]) == 5
        assert logs.lessons_read()["primary"] >= 3
    finally:
        for replica in (first, second):
            replica.start()


def _no_delay(setup: Setup) -> None:
    for replica in setup.replicas:
        replica.set_option("recovery_min_apply_delay = 0")


def _journal_vars(world: School1) -> dict[str, str]:
    return {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }


async def _grade_ids_in_diary(gql: GraphQLClient, setup: Setup, bearer: str) -> set[str]:
    data = await gql.data(DIARY, _diary_vars(setup), token=bearer)
    return {g["id"] for day in data["diary"] for lesson in day["lessons"] for g in lesson["grades"]}


async def test_a_write_through_one_process_is_read_through_another(setup: Setup, gql: GraphQLClient) -> None:
    world = setup.world
    teacher, parent = await token(gql, world.teacher), await token(gql, world.parent)
    _replayed(setup)
    async with AsyncExitStack() as stack:
        # given a second API process on the same primary and replicas (its own router: it
        # knows nothing of the first one's writers), and replicas replaying five seconds late
        other_app = await stack.enter_async_context(live_app(setup.live.app.state.services.settings))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=other_app.url, timeout=20))
        through_b = GraphQLClient(http)
        stack.callback(_no_delay, setup)
        for replica in setup.replicas:
            replica.set_option("recovery_min_apply_delay = '5s'")
        await asyncio.sleep(0.3)

        # when the teacher enters a grade through the first process
        lesson, child = world.lessons[2], world.children[1]
        entered = await gql.data(
            ENTER,
            {"i": {"childId": gid("Child", child.id), "lessonId": gid("Lesson", lesson.id), "value": "3"}},
            token=teacher,
        )
        assert entered["enterGrade"]["userErrors"] == []

        # and at once reads the class journal through the second
        logs = Logs(setup.primary, *setup.replicas)
        journal = (await through_b.data(JOURNAL, _journal_vars(world), token=teacher))["classJournal"]

        # then the journal has the grade: the second process read it on the primary, told
        # of the teacher's write by the session's row
        row = next(r for r in journal["rows"] if r["child"]["id"] == gid("Child", child.id))
        cell = next(c for c in row["cells"] if c["lessonId"] == gid("Lesson", lesson.id))
        assert {"value": "3", "comment": None} in cell["grades"]
        assert logs.lessons_read()["primary"] > 0

        # while a reader who wrote nothing reads through the second process on a replica
        logs = Logs(setup.primary, *setup.replicas)
        diary = await through_b.data(DIARY, _diary_vars(setup), token=parent)
        assert len(diary["diary"]) == 5
        read = logs.lessons_read()
        assert read["primary"] == 0, read
        assert read["replica1"] + read["replica2"] == 1, read
    _replayed(setup)


async def test_healthz_reports_each_replica_and_stays_healthy_without_one(setup: Setup) -> None:
    _replayed(setup)
    async with httpx.AsyncClient(base_url=setup.live.url, timeout=20) as http:
        # given both replicas up: each is reported up, with how far it is behind
        answer = await http.get("/healthz")
        assert answer.status_code == 200
        reported = {r["name"]: r for r in answer.json()["replicas"]}
        assert set(reported) == {"replica1", "replica2"}
        for replica in reported.values():
            assert replica["up"] is True
            assert isinstance(replica["lagBytes"], int)
            assert replica["lagBytes"] >= 0
        # when one is stopped
        first = setup.replicas[0]
        first.stop("fast")
        try:
            answer = await http.get("/healthz")
            # then the server is still healthy, and says which replica is gone
            assert answer.status_code == 200
            reported = {r["name"]: r for r in answer.json()["replicas"]}
            assert reported["replica1"] == {"name": "replica1", "up": False, "lagBytes": None}
            assert reported["replica2"]["up"] is True
        finally:
            first.start()
