"""markAttendance over HTTP: a whole lesson in one call, who may, guardians notified."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from tests.diary_writes_support import World, codes, error_codes, gid, wall_clock
from tests.factories import make_child
from tests.support import GraphQLClient, StatementCounter

MARK = """
mutation($i: MarkAttendanceInput!) {
  markAttendance(input: $i) {
    lesson { id }
    marks { id status minutesLate reason markedAt markedBy { id } child { id } }
    userErrors { field code message }
  }
}"""


def _marks(lesson: Lesson, *marks: dict[str, Any]) -> dict[str, Any]:
    return {"i": {"lessonId": gid("Lesson", lesson.id), "marks": list(marks)}}


async def _notices(session: AsyncSession, user_id: int) -> list[Notification]:
    rows = await session.scalars(
        select(Notification).where(Notification.user_id == user_id, Notification.kind == NotificationKind.ATTENDANCE)
    )
    return list(rows.all())


async def test_a_whole_lesson_in_one_call_and_guardians_told(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given the lesson's teacher
    token = await world.token(gql, world.teacher)
    # when they mark the child late and the classmate present
    data = await gql.data(
        MARK,
        _marks(
            lesson,
            {"childId": gid("Child", world.child.id), "status": "LATE", "minutesLate": 10, "reason": "Автобус"},
            {"childId": gid("Child", world.other_child.id), "status": "PRESENT"},
        ),
        token=token,
    )
    # then both marks are kept with who marked them and when
    payload = data["markAttendance"]
    assert payload["userErrors"] == []
    marks = {m["child"]["id"]: m for m in payload["marks"]}
    late = marks[gid("Child", world.child.id)]
    assert (late["status"], late["minutesLate"], late["reason"]) == ("LATE", 10, "Автобус")
    assert late["markedBy"]["id"] == gid("User", world.teacher.id)
    assert late["markedAt"]
    assert marks[gid("Child", world.other_child.id)]["status"] == "PRESENT"
    # and only the late child's parent is notified
    [notice] = await _notices(session, world.parent.id)
    assert "опоздал" in notice.title
    assert "10 мин" in notice.body
    assert await _notices(session, world.other_parent.id) == []

    # when the same mark is saved again, nobody is told twice; a change to ABSENT is told
    await gql.data(
        MARK,
        _marks(
            lesson, {"childId": gid("Child", world.child.id), "status": "LATE", "minutesLate": 10, "reason": "Автобус"}
        ),
        token=token,
    )
    assert len(await _notices(session, world.parent.id)) == 1
    data = await gql.data(
        MARK,
        _marks(lesson, {"childId": gid("Child", world.other_child.id), "status": "ABSENT"}),
        token=token,
    )
    assert len(data["markAttendance"]["marks"]) == 2  # the child left out keeps their mark
    [notice] = await _notices(session, world.other_parent.id)
    assert "отсутствует" in notice.title
    assert await session.scalar(select(func.count(Attendance.id))) == 2


async def test_every_mark_problem_at_once(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    stranger = await make_child(session)
    await session.commit()
    token = await world.token(gql, world.admin)
    data = await gql.data(
        MARK,
        _marks(
            lesson,
            {"childId": gid("Child", world.child.id), "status": "LATE"},
            {"childId": gid("Child", world.other_child.id), "status": "PRESENT", "minutesLate": 5},
            {"childId": gid("Child", stranger.id), "status": "LATE", "minutesLate": 301},
            {"childId": gid("Child", world.child.id), "status": "SICK", "reason": "x" * 501},
        ),
        token=token,
    )
    assert sorted(codes(data["markAttendance"])) == [
        ("DUPLICATE", ["marks", "3", "childId"]),
        ("INVALID", ["marks", "1", "minutesLate"]),
        ("INVALID", ["marks", "2", "minutesLate"]),
        ("NOT_FOUND", ["marks", "2", "childId"]),
        ("REQUIRED", ["marks", "0", "minutesLate"]),
        ("TOO_LONG", ["marks", "3", "reason"]),
    ]
    assert await session.scalar(select(func.count(Attendance.id))) == 0


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin", "operator"])
async def test_others_may_not_mark(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    token = await world.token(gql, getattr(world, who))
    body = await gql.post(
        MARK, _marks(lesson, {"childId": gid("Child", world.child.id), "status": "ABSENT"}), token=token
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Attendance.id))) == 0


async def test_the_substitute_marks_the_lesson_they_teach(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    lesson.substitute_teacher_id = world.other_teacher.id
    session.add(lesson)
    await session.commit()
    token = await world.token(gql, world.other_teacher)
    data = await gql.data(
        MARK, _marks(lesson, {"childId": gid("Child", world.child.id), "status": "PRESENT"}), token=token
    )
    assert data["markAttendance"]["userErrors"] == []


async def test_attendance_node_is_seen_by_family_and_class_teachers_only(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        MARK, _marks(lesson, {"childId": gid("Child", world.child.id), "status": "SICK"}), token=token
    )
    [mark] = data["markAttendance"]["marks"]
    query = "query($id: ID!) { node(id: $id) { ... on Attendance { id status } } }"
    for who in ("parent", "student", "teacher", "admin"):
        found = await gql.data(query, {"id": mark["id"]}, token=await world.token(gql, getattr(world, who)))
        assert found["node"] is not None, who
    for who in ("other_parent", "other_teacher", "foreign_teacher", "foreign_admin", "operator"):
        found = await gql.data(query, {"id": mark["id"]}, token=await world.token(gql, getattr(world, who)))
        assert found["node"] is None, who


async def test_statements_do_not_grow_with_the_number_of_marks(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, sql_counter: StatementCounter
) -> None:
    # given two lessons, one to mark for one child, the other for two
    second = await world.lesson(session, start_time=lesson.end_time.replace(minute=59), room="102")
    await session.commit()
    token = await world.token(gql, world.teacher)
    query = """
    mutation($i: MarkAttendanceInput!) {
      markAttendance(input: $i) { marks { status child { id } markedBy { id } lesson { id subject { name } } } }
    }"""
    counts = []
    for target, children in ((lesson, [world.child]), (second, [world.child, world.other_child])):
        marks = [{"childId": gid("Child", c.id), "status": "PRESENT"} for c in children]
        with sql_counter:
            data = await gql.data(query, {"i": {"lessonId": gid("Lesson", target.id), "marks": marks}}, token=token)
        assert len(data["markAttendance"]["marks"]) == len(children)
        counts.append(sql_counter.count)
    # then the statement count is the same for one mark and for two
    assert counts[0] == counts[1], counts


async def test_two_markings_of_a_lesson_at_once_both_succeed(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    import asyncio

    teacher, admin = await world.token(gql, world.teacher), await world.token(gql, world.admin)
    mark = {"childId": gid("Child", world.child.id), "status": "PRESENT"}
    results = await asyncio.gather(
        gql.data(MARK, _marks(lesson, mark), token=teacher),
        gql.data(MARK, _marks(lesson, {**mark, "status": "LATE", "minutesLate": 3}), token=admin),
    )
    assert [r["markAttendance"]["userErrors"] for r in results] == [[], []]
    assert await session.scalar(select(func.count(Attendance.id))) == 1


async def test_no_attendance_for_a_lesson_that_has_not_started_by_the_schools_clock(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a school in Vladivostok (UTC+10): a lesson three days ahead, one that begins
    # in half an hour by its clocks (begun hours ago by Moscow's), and one that began half
    # an hour ago (hours ahead by Moscow's)
    world.school.timezone = "Asia/Vladivostok"
    day, _ = wall_clock("Asia/Vladivostok", dt.timedelta(days=3))
    ahead = await world.lesson(session, date=day, start_time=dt.time(8, 30))
    soon_day, soon_time = wall_clock("Asia/Vladivostok", dt.timedelta(minutes=30))
    soon = await world.lesson(session, date=soon_day, start_time=soon_time)
    began_day, began_time = wall_clock("Asia/Vladivostok", -dt.timedelta(minutes=30))
    began = await world.lesson(session, date=began_day, start_time=began_time)
    await session.commit()
    token = await world.token(gql, world.teacher)
    mark = {"childId": gid("Child", world.child.id), "status": "ABSENT"}
    # then the lessons not begun are refused on the lesson, and no guardian is told
    for lesson in (ahead, soon):
        data = await gql.data(MARK, _marks(lesson, mark), token=token)
        assert codes(data["markAttendance"]) == [("INVALID_STATE", ["lessonId"])]
    assert await session.scalar(select(func.count(Attendance.id))) == 0
    assert await _notices(session, world.parent.id) == []
    # and the one that began is marked
    data = await gql.data(MARK, _marks(began, mark), token=token)
    assert data["markAttendance"]["userErrors"] == []
    assert await session.scalar(select(func.count(Attendance.id))) == 1
