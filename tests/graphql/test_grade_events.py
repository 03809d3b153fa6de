"""gradeEvents over a real WebSocket: created, corrected and deleted grades reach the
child's parent within a second; outsiders are refused; access is re-checked per event."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Guardianship
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import channels
from ediary_gql.settings import Settings
from tests.diary_writes_support import World, enter_grade, gid
from tests.graphql.test_two_processes import second_server  # noqa: F401 - a fixture
from tests.support import (
    GraphQLClient,
    WsClient,
    data_of,
    error_code,
    refusal_code,
    wait_subscribed,
    wait_subscribed_on_redis,
    ws_connect,
)

SUBSCRIPTION = """
subscription($child: ID!) {
  gradeEvents(childId: $child) { action grade { id value isDeleted child { id } history { action } } }
}"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
CORRECT = "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) { grade { id } userErrors { code } } }"
DELETE = "mutation($i: DeleteGradeInput!) { deleteGrade(input: $i) { grade { id } userErrors { code } } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


async def _subscribe(ws: WsClient, token: str, child_id: int) -> None:
    await ws.start(SUBSCRIPTION, {"child": gid("Child", child_id)}, token=token)


async def _enter(gql: GraphQLClient, token: str, world: World, lesson: Lesson, value: str) -> str:
    return await enter_grade(gql, token, world, lesson, value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_parent_hears_created_corrected_deleted_within_a_second(
    protocol: str, gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given the child's parent following the child's grades
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url, protocol) as ws:
        await _subscribe(ws, await world.token(gql, world.parent), world.child.id)
        await wait_subscribed(app_services, channels.child_grades(world.child.id))

        # when the teacher enters a grade
        grade_id = await _enter(gql, teacher, world, lesson, "4")
        # then it arrives within a second, as created
        event = data_of(await ws.receive(within=1.0))
        assert event["action"] == "CREATED"
        assert (event["grade"]["id"], event["grade"]["value"]) == (grade_id, "4")

        # when it is corrected, then deleted, each arrives as such
        await gql.data(CORRECT, {"i": {"gradeId": grade_id, "value": "5", "reason": "Пересдача"}}, token=teacher)
        event = data_of(await ws.receive(within=1.0))
        assert (event["action"], event["grade"]["value"]) == ("CORRECTED", "5")
        assert [h["action"] for h in event["grade"]["history"]] == ["CREATED", "CORRECTED"]
        await gql.data(DELETE, {"i": {"gradeId": grade_id, "reason": "Ошибка"}}, token=teacher)
        event = data_of(await ws.receive(within=1.0))
        assert (event["action"], event["grade"]["isDeleted"]) == ("DELETED", True)


async def test_the_child_and_the_teacher_may_follow_too(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as student_ws, ws_connect(ws_url) as teacher_ws:
        await _subscribe(student_ws, await world.token(gql, world.student), world.child.id)
        await _subscribe(teacher_ws, teacher, world.child.id)
        await wait_subscribed(app_services, channels.child_grades(world.child.id), count=2)
        await _enter(gql, teacher, world, lesson, "3")
        assert data_of(await student_ws.receive(within=1.0))["action"] == "CREATED"
        assert data_of(await teacher_ws.receive(within=1.0))["action"] == "CREATED"


@pytest.mark.parametrize("who", ["other_parent", "foreign_teacher", "foreign_admin", "operator"])
async def test_outsiders_are_refused_at_subscribe_time(gql: GraphQLClient, ws_url: str, world: World, who: str) -> None:
    # given a parent of another child (and other outsiders)
    async with ws_connect(ws_url) as ws:
        await _subscribe(ws, await world.token(gql, getattr(world, who)), world.child.id)
        # then the subscription is refused at once
        assert refusal_code(await ws.receive(within=2.0)) == "FORBIDDEN"


async def test_anonymous_is_refused(ws_url: str, world: World) -> None:
    async with ws_connect(ws_url) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        await ws.subscribe(SUBSCRIPTION, {"child": gid("Child", world.child.id)})
        assert refusal_code(await ws.receive(within=2.0)) == "UNAUTHENTICATED"


async def test_removed_guardianship_hears_nothing_more(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given a parent following the child's grades
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as ws:
        await _subscribe(ws, await world.token(gql, world.parent), world.child.id)
        await wait_subscribed(app_services, channels.child_grades(world.child.id))
        await _enter(gql, teacher, world, lesson, "5")
        assert data_of(await ws.receive(within=1.0))["action"] == "CREATED"

        # when the guardianship is removed while the connection stays open
        await session.execute(delete(Guardianship).where(Guardianship.parent_id == world.parent.id))
        await session.commit()
        await _enter(gql, teacher, world, lesson, "2")
        # then the next grade is not delivered: the stream ends, refused
        assert error_code(await ws.receive(within=1.0)) == "FORBIDDEN"
        assert (await ws.receive(within=1.0))["type"] == "complete"


async def test_a_teacher_hears_only_their_subjects(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given a teacher of another subject in the child's class, following the child
    from tests.factories import make_subject, make_teaching_assignment

    physics = await make_subject(session, school_id=world.school.id, name="Физика")
    await make_teaching_assignment(
        session, teacher_id=world.other_teacher.id, class_id=world.school_class.id, subject_id=physics.id
    )
    await session.commit()
    async with ws_connect(ws_url) as ws:
        await _subscribe(ws, await world.token(gql, world.other_teacher), world.child.id)
        await wait_subscribed(app_services, channels.child_grades(world.child.id))
        # when a maths grade is entered, then the physics teacher does not hear it
        await _enter(gql, await world.token(gql, world.teacher), world, lesson, "5")
        assert await ws.no_message(within=0.5)


@pytest.mark.redis_only
async def test_a_grade_crosses_server_processes(
    gql: GraphQLClient,
    settings: Settings,
    world: World,
    lesson: Lesson,
    second_server: str,  # noqa: F811 - the fixture imported above
) -> None:
    # given the parent subscribed on another server process sharing the database and Redis
    async with ws_connect(second_server.replace("http://", "ws://")) as ws:
        await _subscribe(ws, await world.token(gql, world.parent), world.child.id)
        await wait_subscribed_on_redis(settings, channels.child_grades(world.child.id))
        # when the teacher enters a grade through this process
        grade_id = await _enter(gql, await world.token(gql, world.teacher), world, lesson, "5")
        # then the other process delivers it within a second
        event = data_of(await ws.receive(within=1.0))
        assert (event["action"], event["grade"]["id"]) == ("CREATED", grade_id)
