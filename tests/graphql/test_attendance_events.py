"""attendanceEvents and attendanceSummary over a real WebSocket: the school dashboard feed."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.classes import TeachingAssignment
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import channels
from tests.diary_writes_support import MONDAY, World, gid
from tests.support import GraphQLClient, data_of, error_code, refusal_code, wait_subscribed, ws_connect

EVENTS = """
subscription($class: ID, $school: ID) {
  attendanceEvents(classId: $class, schoolId: $school) { lesson { id } marks { status child { id } } }
}"""
SUMMARY = """
subscription($class: ID!, $date: Date!) {
  attendanceSummary(classId: $class, date: $date) {
    classId date lessons children updatedAt counts { present absent late excused sick unmarked }
  }
}"""
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"


async def _mark(gql: GraphQLClient, token: str, lesson: Lesson, *marks: tuple[int, str]) -> None:
    data = await gql.data(
        MARK,
        {
            "i": {
                "lessonId": gid("Lesson", lesson.id),
                "marks": [{"childId": gid("Child", c), "status": s} for c, s in marks],
            }
        },
        token=token,
    )
    assert data["markAttendance"]["userErrors"] == []


async def test_the_school_admin_follows_the_whole_school(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {"school": gid("School", world.school.id)}, token=await world.token(gql, world.admin))
        await wait_subscribed(app_services, channels.school_attendance(world.school.id))
        await _mark(gql, await world.token(gql, world.teacher), lesson, (world.child.id, "ABSENT"))
        event = data_of(await ws.receive(within=1.0), "attendanceEvents")
        assert event["lesson"]["id"] == gid("Lesson", lesson.id)
        assert [(m["child"]["id"], m["status"]) for m in event["marks"]] == [(gid("Child", world.child.id), "ABSENT")]


async def test_a_class_teacher_follows_the_class_and_loses_it_with_the_assignment(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {"class": gid("SchoolClass", world.school_class.id)}, token=teacher)
        await wait_subscribed(app_services, channels.class_attendance(world.school_class.id))
        await _mark(gql, teacher, lesson, (world.child.id, "PRESENT"))
        assert data_of(await ws.receive(within=1.0), "attendanceEvents")["marks"][0]["status"] == "PRESENT"

        # when the teacher no longer teaches the class, the next change is not delivered: the stream ends, refused
        await session.execute(delete(TeachingAssignment).where(TeachingAssignment.teacher_id == world.teacher.id))
        await session.commit()
        await _mark(gql, await world.token(gql, world.admin), lesson, (world.child.id, "SICK"))
        assert error_code(await ws.receive(within=1.0)) == "FORBIDDEN"
        assert (await ws.receive(within=1.0))["type"] == "complete"


@pytest.mark.parametrize(
    ("who", "scope"),
    [
        ("parent", "class"),
        ("other_teacher", "class"),
        ("foreign_teacher", "class"),
        ("foreign_admin", "class"),
        ("operator", "class"),
        ("teacher", "school"),
        ("foreign_admin", "school"),
    ],
)
async def test_outsiders_are_refused(gql: GraphQLClient, ws_url: str, world: World, who: str, scope: str) -> None:
    variables = (
        {"class": gid("SchoolClass", world.school_class.id)}
        if scope == "class"
        else {"school": gid("School", world.school.id)}
    )
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, variables, token=await world.token(gql, getattr(world, who)))
        assert refusal_code(await ws.receive(within=2.0)) == "FORBIDDEN"


async def test_exactly_one_scope(gql: GraphQLClient, ws_url: str, world: World) -> None:
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {}, token=await world.token(gql, world.admin))
        assert refusal_code(await ws.receive(within=2.0)) == "INVALID"


async def test_summary_counts_at_once_then_after_each_change(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    # given a second lesson that day: 2 children × 2 lessons to mark
    second = await world.lesson(session, start_time=lesson.end_time.replace(minute=59), room="102")
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as ws:
        await ws.start(
            SUMMARY,
            {"class": gid("SchoolClass", world.school_class.id), "date": MONDAY.isoformat()},
            token=await world.token(gql, world.admin),
        )
        # then the current counts come at once
        first = data_of(await ws.receive(within=2.0), "attendanceSummary")
        assert (first["lessons"], first["children"]) == (2, 2)
        assert first["counts"] == {"present": 0, "absent": 0, "late": 0, "excused": 0, "sick": 0, "unmarked": 4}
        await wait_subscribed(app_services, channels.class_attendance(world.school_class.id))

        # when a lesson is marked, the counts follow
        await _mark(gql, teacher, lesson, (world.child.id, "ABSENT"), (world.other_child.id, "PRESENT"))
        counts = data_of(await ws.receive(within=1.0), "attendanceSummary")["counts"]
        assert counts == {"present": 1, "absent": 1, "late": 0, "excused": 0, "sick": 0, "unmarked": 2}
        await _mark(gql, teacher, second, (world.child.id, "SICK"))
        counts = data_of(await ws.receive(within=1.0), "attendanceSummary")["counts"]
        assert counts == {"present": 1, "absent": 1, "late": 0, "excused": 0, "sick": 1, "unmarked": 1}


async def test_summary_refuses_a_parent(gql: GraphQLClient, ws_url: str, world: World) -> None:
    async with ws_connect(ws_url) as ws:
        await ws.start(
            SUMMARY,
            {"class": gid("SchoolClass", world.school_class.id), "date": MONDAY.isoformat()},
            token=await world.token(gql, world.parent),
        )
        assert refusal_code(await ws.receive(within=2.0)) == "FORBIDDEN"
