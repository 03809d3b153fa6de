"""createLesson and updateLesson over HTTP: who may, double bookings named, races."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from tests.diary_writes_support import MONDAY, World, codes, error_codes, gid
from tests.factories import make_holiday, make_school_class, make_subject, make_teaching_assignment
from tests.support import GraphQLClient

CREATE = """
mutation($i: CreateLessonInput!) {
  createLesson(input: $i) {
    lesson { id date startTime endTime room topic status lessonNumber
             schoolClass { name } subject { name } teacher { id } substituteTeacher { id } }
    userErrors { field code message }
  }
}"""

UPDATE = """
mutation($i: UpdateLessonInput!) {
  updateLesson(input: $i) {
    lesson { id date startTime status room topic substituteTeacher { id } }
    userErrors { field code message }
  }
}"""


def _input(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "classId": gid("SchoolClass", world.school_class.id),
        "subjectId": gid("Subject", world.subject.id),
        "date": MONDAY.isoformat(),
        "startTime": "09:00:00",
        "endTime": "09:45:00",
        "room": "204",
        "topic": "Дроби",
        "lessonNumber": 2,
    }
    data.update(overrides)
    return data


async def test_the_assigned_teacher_creates_a_lesson(gql: GraphQLClient, world: World) -> None:
    # given the teacher of maths in the class
    token = await world.token(gql, world.teacher)
    # when they create a lesson
    data = await gql.data(CREATE, {"i": _input(world)}, token=token)
    # then it is there, taught by them
    payload = data["createLesson"]
    assert payload["userErrors"] == []
    lesson = payload["lesson"]
    assert lesson["date"] == MONDAY.isoformat()
    assert (lesson["startTime"], lesson["endTime"], lesson["room"]) == ("09:00:00", "09:45:00", "204")
    assert lesson["status"] == "SCHEDULED"
    assert lesson["subject"]["name"] == "Математика"
    assert lesson["schoolClass"]["name"] == world.school_class.name
    assert lesson["teacher"]["id"] == gid("User", world.teacher.id)


async def test_the_school_admin_creates_a_lesson_for_a_teacher(gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.admin)
    data = await gql.data(CREATE, {"i": _input(world, teacherId=gid("User", world.teacher.id))}, token=token)
    assert data["createLesson"]["userErrors"] == []
    assert data["createLesson"]["lesson"]["teacher"]["id"] == gid("User", world.teacher.id)


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin", "operator", "student"])
async def test_others_may_not_create_lessons(gql: GraphQLClient, session: AsyncSession, world: World, who: str) -> None:
    # given someone who is not the class × subject's teacher nor the school's admin
    token = await world.token(gql, getattr(world, who))
    # when they try
    body = await gql.post(CREATE, {"i": _input(world)}, token=token)
    # then they are refused and nothing is made
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Lesson.id))) == 0


async def test_anonymous_is_refused(gql: GraphQLClient, world: World) -> None:
    body = await gql.post(CREATE, {"i": _input(world)})
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_every_input_problem_at_once(gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        CREATE,
        {
            "i": _input(
                world, date="2030-01-10", startTime="10:00:00", endTime="09:00:00", room="x" * 40, lessonNumber=30
            )
        },
        token=token,
    )
    assert sorted(codes(data["createLesson"])) == [
        ("INVALID", ["date"]),
        ("INVALID", ["endTime"]),
        ("INVALID", ["lessonNumber"]),
        ("TOO_LONG", ["room"]),
    ]
    assert all(e["message"] for e in data["createLesson"]["userErrors"])


async def test_a_wrong_kind_of_id_is_a_user_error(gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        CREATE, {"i": _input(world, classId=gid("Subject", 1), subjectId=gid("Child", 1))}, token=token
    )
    assert sorted(codes(data["createLesson"])) == [("INVALID", ["classId"]), ("INVALID", ["subjectId"])]


async def test_class_teacher_and_room_are_never_booked_twice(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a lesson of the class, 09:00–09:45 in room 204
    existing = await world.lesson(session, start_time=_t("09:00"), end_time=_t("09:45"), room="204")
    await session.commit()
    token = await world.token(gql, world.admin)
    other_subject = await make_subject(session, school_id=world.school.id, name="Физика")
    other_class = await make_school_class(session, school_id=world.school.id, academic_year_id=world.year.id)
    await make_teaching_assignment(
        session, teacher_id=world.other_teacher.id, class_id=world.school_class.id, subject_id=other_subject.id
    )
    # the maths teacher teaches maths in the other class too
    await make_teaching_assignment(
        session, teacher_id=world.teacher.id, class_id=other_class.id, subject_id=world.subject.id
    )
    await session.commit()
    named = gid("Lesson", existing.id)

    # when the same class gets another subject at an overlapping time
    data = await gql.data(
        CREATE,
        {
            "i": _input(
                world,
                subjectId=gid("Subject", other_subject.id),
                teacherId=gid("User", world.other_teacher.id),
                startTime="09:30:00",
                endTime="10:15:00",
                room="305",
            )
        },
        token=token,
    )
    # then the class is busy, and the lesson in the way is named
    [error] = data["createLesson"]["userErrors"]
    assert (error["code"], error["field"]) == ("CONFLICT", ["classId"])
    assert named in error["message"]
    assert "Математика" in error["message"]
    assert "09:00–09:45" in error["message"]

    # when the same teacher is booked in another class at that time, in the same room
    data = await gql.data(
        CREATE,
        {
            "i": _input(
                world,
                classId=gid("SchoolClass", other_class.id),
                teacherId=gid("User", world.teacher.id),
                startTime="09:15:00",
                endTime="10:00:00",
            )
        },
        token=token,
    )
    # then both the teacher and the room are refused, naming the lesson
    assert sorted(codes(data["createLesson"])) == [("CONFLICT", ["room"]), ("CONFLICT", ["teacherId"])]
    assert all(named in e["message"] for e in data["createLesson"]["userErrors"])

    # when an exact duplicate is asked
    data = await gql.data(
        CREATE, {"i": _input(world, room="204", teacherId=gid("User", world.teacher.id))}, token=token
    )
    # then it is a DUPLICATE, naming the lesson
    [error] = data["createLesson"]["userErrors"]
    assert error["code"] == "DUPLICATE"
    assert named in error["message"]

    # when the other class has a lesson in a free room right after
    data = await gql.data(
        CREATE,
        {
            "i": _input(
                world,
                classId=gid("SchoolClass", other_class.id),
                teacherId=gid("User", world.teacher.id),
                startTime="09:45:00",
                endTime="10:30:00",
            )
        },
        token=token,
    )
    # then touching ends are no overlap
    assert data["createLesson"]["userErrors"] == []


async def test_two_racing_requests_one_wins_the_other_names_it(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a teacher and an admin asking for the same slot at the same moment
    tokens = [await world.token(gql, world.teacher), await world.token(gql, world.admin)]
    variables = {"i": _input(world, teacherId=gid("User", world.teacher.id))}
    # when both requests race
    results = await asyncio.gather(*(gql.data(CREATE, variables, token=t) for t in tokens))
    # then exactly one lesson is made
    made = [r["createLesson"]["lesson"] for r in results if r["createLesson"]["lesson"]]
    refused = [r["createLesson"]["userErrors"] for r in results if not r["createLesson"]["lesson"]]
    assert len(made) == 1
    assert len(refused) == 1
    # and the loser's refusal names the winner
    [error] = refused[0]
    assert error["code"] == "DUPLICATE"
    assert made[0]["id"] in error["message"]
    assert await session.scalar(select(func.count(Lesson.id))) == 1


async def test_racing_lessons_of_one_teacher_in_two_classes(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given two classes the teacher teaches, and two overlapping lessons asked at once
    other_class = await make_school_class(session, school_id=world.school.id, academic_year_id=world.year.id)
    await make_teaching_assignment(
        session, teacher_id=world.teacher.id, class_id=other_class.id, subject_id=world.subject.id
    )
    await session.commit()
    token = await world.token(gql, world.teacher)
    first = {"i": _input(world, room=None)}
    second = {
        "i": _input(
            world, classId=gid("SchoolClass", other_class.id), startTime="09:20:00", endTime="10:05:00", room=None
        )
    }
    # when they race
    results = await asyncio.gather(gql.data(CREATE, first, token=token), gql.data(CREATE, second, token=token))
    # then one wins and the other is a teacher conflict naming it
    made = [r["createLesson"]["lesson"] for r in results if r["createLesson"]["lesson"]]
    refused = [r["createLesson"]["userErrors"] for r in results if not r["createLesson"]["lesson"]]
    assert len(made) == 1
    [error] = refused[0]
    assert (error["code"], error["field"]) == ("CONFLICT", ["teacherId"])
    assert made[0]["id"] in error["message"]


async def test_move_cancel_substitute_and_topic(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    # given two lessons of the class on Monday
    first = await world.lesson(session, start_time=_t("09:00"), end_time=_t("09:45"), room="101")
    second = await world.lesson(session, start_time=_t("10:00"), end_time=_t("10:45"), room="102")
    await session.commit()
    token = await world.token(gql, world.teacher)

    # when the second is moved onto the first
    data = await gql.data(UPDATE, {"i": {"lessonId": gid("Lesson", second.id), "startTime": "09:10:00"}}, token=token)
    # then the class conflict names the first
    [error] = [e for e in data["updateLesson"]["userErrors"] if e["field"] == ["classId"]]
    assert error["code"] == "CONFLICT"
    assert gid("Lesson", first.id) in error["message"]

    # when the first is cancelled, the second can move into its time (not its exact start)
    data = await gql.data(UPDATE, {"i": {"lessonId": gid("Lesson", first.id), "status": "CANCELLED"}}, token=token)
    assert data["updateLesson"]["lesson"]["status"] == "CANCELLED"
    data = await gql.data(UPDATE, {"i": {"lessonId": gid("Lesson", second.id), "startTime": "09:10:00"}}, token=token)
    assert data["updateLesson"]["userErrors"] == []

    # when a substitute is set and the topic changed, with the room cleared
    data = await gql.data(
        UPDATE,
        {
            "i": {
                "lessonId": gid("Lesson", second.id),
                "substituteTeacherId": gid("User", world.other_teacher.id),
                "topic": "Проценты",
                "room": None,
            }
        },
        token=token,
    )
    lesson = data["updateLesson"]["lesson"]
    assert lesson["substituteTeacher"]["id"] == gid("User", world.other_teacher.id)
    assert (lesson["topic"], lesson["room"]) == ("Проценты", None)

    # when the cancelled first lesson is restored at its time, it now overlaps the second
    data = await gql.data(UPDATE, {"i": {"lessonId": gid("Lesson", first.id), "status": "SCHEDULED"}}, token=token)
    assert [e["code"] for e in data["updateLesson"]["userErrors"]] == ["CONFLICT"]


async def test_a_substitute_must_be_free_and_on_the_staff(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    other_class = await make_school_class(session, school_id=world.school.id, academic_year_id=world.year.id)
    busy = await world.lesson(
        session, school_class=other_class, teacher_id=world.other_teacher.id, start_time=_t("09:00"), room="300"
    )
    lesson = await world.lesson(session, start_time=_t("09:00"), end_time=_t("09:45"))
    await session.commit()
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        UPDATE,
        {"i": {"lessonId": gid("Lesson", lesson.id), "substituteTeacherId": gid("User", world.other_teacher.id)}},
        token=token,
    )
    [error] = data["updateLesson"]["userErrors"]
    assert (error["code"], error["field"]) == ("CONFLICT", ["substituteTeacherId"])
    assert gid("Lesson", busy.id) in error["message"]
    data = await gql.data(
        UPDATE,
        {"i": {"lessonId": gid("Lesson", lesson.id), "substituteTeacherId": gid("User", world.foreign_teacher.id)}},
        token=token,
    )
    assert codes(data["updateLesson"]) == [("NOT_FOUND", ["substituteTeacherId"])]


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin"])
async def test_others_may_not_update_a_lesson(
    gql: GraphQLClient, session: AsyncSession, world: World, who: str
) -> None:
    lesson = await world.lesson(session, topic="Дроби")
    await session.commit()
    token = await world.token(gql, getattr(world, who))
    body = await gql.post(UPDATE, {"i": {"lessonId": gid("Lesson", lesson.id), "topic": "Взлом"}}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    await session.refresh(lesson)
    assert lesson.topic == "Дроби"


async def test_lesson_node_is_seen_by_the_class_family_not_by_others(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    lesson = await world.lesson(session)
    await session.commit()
    query = "query($id: ID!) { node(id: $id) { ... on Lesson { id topic } } }"
    variables = {"id": gid("Lesson", lesson.id)}
    for who in ("parent", "student", "teacher", "other_teacher", "admin"):
        data = await gql.data(query, variables, token=await world.token(gql, getattr(world, who)))
        assert data["node"] is not None, who
    for who in ("foreign_teacher", "foreign_admin", "operator"):
        data = await gql.data(query, variables, token=await world.token(gql, getattr(world, who)))
        assert data["node"] is None, who


def _t(value: str) -> Any:
    import datetime as dt

    return dt.time.fromisoformat(value)


async def test_lesson_times_carry_the_school_zone(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    # given a school in Yekaterinburg (UTC+5)
    school = await session.get(School, world.school_class.school_id)
    assert school is not None
    school.timezone = "Asia/Yekaterinburg"
    await session.commit()
    token = await world.token(gql, world.teacher)
    # when a lesson is created at 09:00 school time
    data = await gql.data(
        "mutation($i: CreateLessonInput!) { createLesson(input: $i) { lesson { startsAt endsAt } } }",
        {"i": _input(world)},
        token=token,
    )
    # then its timestamps say so, with the zone
    lesson = data["createLesson"]["lesson"]
    assert lesson == {
        "startsAt": f"{MONDAY.isoformat()}T09:00:00+05:00",
        "endsAt": f"{MONDAY.isoformat()}T09:45:00+05:00",
    }


async def test_a_lesson_names_only_a_teacher_assigned_to_the_class_and_subject(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given the school's admin, and a teacher of the school not assigned to maths in the class
    token = await world.token(gql, world.admin)
    # when the admin makes a maths lesson for that teacher, or for no one named (herself)
    for teacher in ({"teacherId": gid("User", world.other_teacher.id)}, {}):
        data = await gql.data(CREATE, {"i": _input(world, **teacher)}, token=token)
        # then the teacher is refused, and no lesson is made
        assert codes(data["createLesson"]) == [("INVALID", ["teacherId"])]
    assert await session.scalar(select(func.count(Lesson.id))) == 0
    # and the assigned teacher is taken
    data = await gql.data(CREATE, {"i": _input(world, teacherId=gid("User", world.teacher.id))}, token=token)
    assert data["createLesson"]["userErrors"] == []


HOLIDAY_CASES = [
    # a school's own holiday (its autumn break, Mon 26 October 2026)
    ("2026-10-26", "Осенние каникулы"),
    # a public holiday (Wed 4 November 2026)
    ("2026-11-04", "День народного единства"),
    # a day off the government moved (Thu 31 December 2026, from Sunday 4 January)
    ("2026-12-31", "Выходной (перенесено с 04.01.2026)"),
]


@pytest.mark.parametrize(("day", "holiday"), HOLIDAY_CASES)
async def test_no_lesson_on_a_holiday_unless_a_make_up_day_is_asked(
    gql: GraphQLClient, session: AsyncSession, world: World, day: str, holiday: str
) -> None:
    # given the school's autumn break
    await make_holiday(
        session,
        school_id=world.school.id,
        name="Осенние каникулы",
        starts_on=dt.date(2026, 10, 26),
        ends_on=dt.date(2026, 11, 3),
    )
    await session.commit()
    token = await world.token(gql, world.teacher)
    # when a lesson is made on the day
    data = await gql.data(CREATE, {"i": _input(world, date=day)}, token=token)
    # then it is refused on its date, naming the holiday
    assert codes(data["createLesson"]) == [("INVALID", ["date"])]
    message = data["createLesson"]["userErrors"][0]["message"]
    assert holiday in message
    assert "allowOnHoliday" in message
    assert await session.scalar(select(func.count(Lesson.id))) == 0
    # and with allowOnHoliday it is made, as a make-up day
    data = await gql.data(CREATE, {"i": _input(world, date=day, allowOnHoliday=True)}, token=token)
    assert data["createLesson"]["userErrors"] == []
    assert data["createLesson"]["lesson"]["date"] == day


async def test_a_lesson_is_not_moved_to_or_restored_on_a_holiday_unless_asked(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a Monday lesson, and a cancelled one on Unity Day, made as a make-up day before
    lesson = await world.lesson(session, start_time=_t("09:00"), end_time=_t("09:45"))
    unity = await world.lesson(session, date=dt.date(2026, 11, 4), start_time=_t("09:00"), end_time=_t("09:45"))
    unity.status = LessonStatus.CANCELLED
    await session.commit()
    token = await world.token(gql, world.teacher)
    move = {"lessonId": gid("Lesson", lesson.id), "date": "2026-11-04", "startTime": "11:00:00", "endTime": "11:45:00"}
    restore = {"lessonId": gid("Lesson", unity.id), "status": "SCHEDULED"}
    # when it is moved to Unity Day, or the cancelled one restored
    for change in (move, restore):
        data = await gql.data(UPDATE, {"i": change}, token=token)
        # then it is refused on its date, naming the holiday
        assert codes(data["updateLesson"]) == [("INVALID", ["date"])]
        assert "День народного единства" in data["updateLesson"]["userErrors"][0]["message"]
    # and a change that keeps a lesson off holidays is not asked for anything
    data = await gql.data(UPDATE, {"i": {"lessonId": gid("Lesson", unity.id), "topic": "Отработка"}}, token=token)
    assert data["updateLesson"]["userErrors"] == []
    # and with allowOnHoliday both go through
    for change in (move, restore):
        data = await gql.data(UPDATE, {"i": {**change, "allowOnHoliday": True}}, token=token)
        assert data["updateLesson"]["userErrors"] == []
        assert data["updateLesson"]["lesson"]["date"] == "2026-11-04"
