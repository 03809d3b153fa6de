"""changeEvents: a school's change feed live over WebSocket, resumed by cursor; for its
admins and its integration with events:read, refused to anyone else, and ended for one
whose right ended."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.events import channels
from tests.changes_support import changes, correct, create_lesson, grade
from tests.diary_writes_support import World, gid
from tests.support import GraphQLClient, data_of, error_code, refusal_code, wait_subscribed, ws_connect

FOLLOW = """
subscription($after: String, $types: [ChangeType!]) {
  changeEvents(after: $after, types: $types) { cursor eventId type action recordId }
}"""


async def test_an_admin_follows_the_schools_changes_and_resumes_after_a_cursor(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    teacher = await world.token(gql, world.teacher)
    # given the admin following the school's grades and lessons
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, {"types": ["GRADE", "LESSON"]}, token=admin)
        await wait_subscribed(app_services, channels.school_changes(world.school.id, "GRADE"))
        # when a teacher grades
        grade_id = await grade(gql, teacher, world, lesson)
        # then the change comes at once, as the feed lists it
        heard = data_of(await ws.receive())
        assert (heard["type"], heard["action"], heard["recordId"]) == ("GRADE", "CREATED", grade_id)
        listed = (await changes(gql, admin, after=None))["changes"][-1]
        assert (heard["eventId"], heard["cursor"]) == (listed["eventId"], listed["cursor"])
    # when the admin is away, the grade is corrected and a lesson is made
    await correct(gql, teacher, grade_id, "3")
    new_lesson = await create_lesson(gql, teacher, world)
    # then following again after the last cursor sends what was missed, in order
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, {"after": heard["cursor"]}, token=admin)
        missed = [data_of(await ws.receive()) for _ in range(2)]
        assert [(m["type"], m["action"], m["recordId"]) for m in missed] == [
            ("GRADE", "UPDATED", grade_id),
            ("LESSON", "CREATED", new_lesson),
        ]
        assert await ws.no_message()


async def test_only_the_schools_admins_follow_it(gql: GraphQLClient, ws_url: str, world: World) -> None:
    for user in (world.teacher, world.parent, world.foreign_admin, world.operator):
        token = await world.token(gql, user)
        async with ws_connect(ws_url) as ws:
            await ws.start(
                "subscription($s: ID) { changeEvents(schoolId: $s) { cursor } }",
                {"s": gid("School", world.school.id)},
                token=token,
            )
            assert refusal_code(await ws.receive()) == "FORBIDDEN", user.id


async def test_an_admin_who_is_no_longer_one_hears_nothing_more(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, token=admin)
        await wait_subscribed(app_services, channels.school_changes(world.school.id, "GRADE"))
        # when the admin's membership ends, and then a grade is entered
        await session.execute(
            update(StaffMembership).where(StaffMembership.user_id == world.admin.id).values(active=False)
        )
        await session.commit()
        await grade(gql, await world.token(gql, world.teacher), world, lesson)
        # then the stream ends, refused
        assert error_code(await ws.receive()) == "FORBIDDEN"


support = pytest.importorskip("tests.integration_support")


async def test_an_integration_with_events_read_follows_its_school(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read"]
    )
    token = await support.integration_token(gql.http, client_id, secret)
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, token=token)
        await wait_subscribed(app_services, channels.school_changes(world.school.id, "GRADE"))
        grade_id = await grade(gql, await world.token(gql, world.teacher), world, lesson)
        heard = data_of(await ws.receive())
        assert (heard["type"], heard["recordId"]) == ("GRADE", grade_id)
    # one without events:read is refused
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["diary:read"]
    )
    reader = await support.integration_token(gql.http, client_id, secret)
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, token=reader)
        assert refusal_code(await ws.receive()) == "FORBIDDEN"
