"""enterGrade, correctGrade, deleteGrade over HTTP: who may, values, history, finals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.services.school_time import today_in
from tests.diary_writes_support import World, codes, error_codes, gid, wall_clock
from tests.factories import make_grade
from tests.support import GraphQLClient

GRADE_FIELDS = """
  grade { id value numericValue kind weight comment gradedOn isDeleted
          controlType { code } subject { name } child { id } teacher { id } lesson { id }
          history { action oldValue newValue reason changedBy { id } } }
  userErrors { field code message }
"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) {" + GRADE_FIELDS + "} }"
CORRECT = "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) {" + GRADE_FIELDS + "} }"
DELETE = "mutation($i: DeleteGradeInput!) { deleteGrade(input: $i) {" + GRADE_FIELDS + "} }"


def _enter(world: World, lesson: Lesson, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "childId": gid("Child", world.child.id),
        "lessonId": gid("Lesson", lesson.id),
        "value": "5",
        "controlTypeId": gid("ControlType", world.control_type.id),
        "comment": "Отлично",
    }
    data.update(overrides)
    return {"i": data}


async def test_the_teacher_enters_a_grade_with_its_weight(gql: GraphQLClient, world: World, lesson: Lesson) -> None:
    token = await world.token(gql, world.teacher)
    data = await gql.data(ENTER, _enter(world, lesson), token=token)
    grade = data["enterGrade"]["grade"]
    assert data["enterGrade"]["userErrors"] == []
    assert (grade["value"], grade["numericValue"], grade["kind"]) == ("5", 5, "REGULAR")
    assert grade["weight"] == "2.00"
    assert grade["controlType"]["code"] == "TEST"
    assert grade["gradedOn"] == lesson.date.isoformat()
    assert grade["subject"]["name"] == "Математика"
    assert grade["teacher"]["id"] == gid("User", world.teacher.id)
    assert [h["action"] for h in grade["history"]] == ["CREATED"]


async def test_pass_fail_has_no_numeric_value(gql: GraphQLClient, world: World, lesson: Lesson) -> None:
    token = await world.token(gql, world.admin)
    data = await gql.data(ENTER, _enter(world, lesson, value="pass", controlTypeId=None), token=token)
    grade = data["enterGrade"]["grade"]
    assert (grade["value"], grade["numericValue"], grade["weight"]) == ("PASS", None, "1.00")


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin", "operator", "student"])
async def test_others_may_not_enter_grades(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    token = await world.token(gql, getattr(world, who))
    body = await gql.post(ENTER, _enter(world, lesson), token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Grade.id))) == 0


async def test_every_problem_at_once(gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson) -> None:
    from tests.factories import make_child, make_control_type, make_school

    stranger = await make_child(session)
    foreign_type = await make_control_type(session, school_id=(await make_school(session)).id)
    await session.commit()
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        ENTER,
        _enter(
            world,
            lesson,
            childId=gid("Child", stranger.id),
            value="6",
            controlTypeId=gid("ControlType", foreign_type.id),
            comment="x" * 1001,
        ),
        token=token,
    )
    assert sorted(codes(data["enterGrade"])) == [
        ("INVALID", ["value"]),
        ("NOT_FOUND", ["childId"]),
        ("NOT_FOUND", ["controlTypeId"]),
        ("TOO_LONG", ["comment"]),
    ]


async def test_correction_keeps_the_old_value_and_needs_a_reason(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    token = await world.token(gql, world.teacher)
    grade = (await gql.data(ENTER, _enter(world, lesson, value="3"), token=token))["enterGrade"]["grade"]

    # a correction without a reason is refused
    data = await gql.data(CORRECT, {"i": {"gradeId": grade["id"], "value": "4", "reason": "  "}}, token=token)
    assert codes(data["correctGrade"]) == [("REQUIRED", ["reason"])]

    # with one, the value changes and the history keeps the old one
    data = await gql.data(
        CORRECT, {"i": {"gradeId": grade["id"], "value": "4", "reason": "Пересчёт баллов"}}, token=token
    )
    corrected = data["correctGrade"]["grade"]
    assert (corrected["value"], corrected["numericValue"]) == ("4", 4)
    assert [(h["action"], h["oldValue"], h["newValue"], h["reason"]) for h in corrected["history"]] == [
        ("CREATED", None, "3", None),
        ("CORRECTED", "3", "4", "Пересчёт баллов"),
    ]

    # a deletion needs a reason too, keeps the row and the history
    data = await gql.data(DELETE, {"i": {"gradeId": grade["id"], "reason": ""}}, token=token)
    assert codes(data["deleteGrade"]) == [("REQUIRED", ["reason"])]
    data = await gql.data(DELETE, {"i": {"gradeId": grade["id"], "reason": "Ошибка ученика"}}, token=token)
    deleted = data["deleteGrade"]["grade"]
    assert deleted["isDeleted"] is True
    assert [h["action"] for h in deleted["history"]] == ["CREATED", "CORRECTED", "DELETED"]

    # and a deleted grade can no longer be corrected
    data = await gql.data(CORRECT, {"i": {"gradeId": grade["id"], "value": "5", "reason": "Ещё раз"}}, token=token)
    assert codes(data["correctGrade"]) == [("INVALID_STATE", ["gradeId"])]


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin"])
async def test_others_may_not_correct_or_delete(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    grade = await make_grade(session, lesson_id=lesson.id, child_id=world.child.id, value="3", numeric_value=3)
    await session.commit()
    token = await world.token(gql, getattr(world, who))
    body = await gql.post(CORRECT, {"i": {"gradeId": gid("Grade", grade.id), "value": "5", "reason": "!"}}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql.post(DELETE, {"i": {"gradeId": gid("Grade", grade.id), "reason": "!"}}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    await session.refresh(grade)
    assert (grade.value, grade.deleted_at) == ("3", None)


# between them, at any hour one of these zones is on another date than UTC
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
async def test_a_final_grade_is_dated_by_the_schools_own_today(
    gql: GraphQLClient, session: AsyncSession, world: World, zone: str
) -> None:
    world.school.timezone = zone
    await session.commit()
    data = await gql.data(ENTER, _period_final(world, "5"), token=await world.token(gql, world.teacher))
    assert data["enterGrade"]["grade"]["gradedOn"] == today_in(zone).isoformat()


def _period_final(world: World, value: str) -> dict[str, Any]:
    """The child's final grade in the subject for the period."""
    return {
        "i": {
            "childId": gid("Child", world.child.id),
            "kind": "PERIOD_FINAL",
            "subjectId": gid("Subject", world.subject.id),
            "periodId": gid("Period", world.period.id),
            "value": value,
        }
    }


async def test_period_final_grade_once_per_period(gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.teacher)
    variables = _period_final(world, "4")
    data = await gql.data(ENTER, variables, token=token)
    assert data["enterGrade"]["grade"]["kind"] == "PERIOD_FINAL"
    data = await gql.data(ENTER, variables, token=token)
    [error] = data["enterGrade"]["userErrors"]
    assert error["code"] == "DUPLICATE"
    # a regular grade needs its lesson
    variables["i"]["kind"] = "REGULAR"
    data = await gql.data(ENTER, variables, token=token)
    assert codes(data["enterGrade"]) == [("REQUIRED", ["lessonId"])]


async def test_grade_node_is_seen_by_family_teacher_admin_not_others(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    grade = await make_grade(session, lesson_id=lesson.id, child_id=world.child.id)
    await session.commit()
    query = "query($id: ID!) { node(id: $id) { ... on Grade { id value } } }"
    variables = {"id": gid("Grade", grade.id)}
    for who in ("parent", "student", "teacher", "admin"):
        data = await gql.data(query, variables, token=await world.token(gql, getattr(world, who)))
        assert data["node"] is not None, who
    for who in ("other_parent", "other_teacher", "foreign_teacher", "foreign_admin", "operator"):
        data = await gql.data(query, variables, token=await world.token(gql, getattr(world, who)))
        assert data["node"] is None, who


async def test_no_grade_for_a_lesson_that_has_not_started(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a lesson three days ahead
    day, _ = wall_clock(world.school.timezone, dt.timedelta(days=3))
    ahead = await world.lesson(session, date=day, start_time=dt.time(8, 30))
    await session.commit()
    # when its teacher grades it
    data = await gql.data(ENTER, _enter(world, ahead), token=await world.token(gql, world.teacher))
    # then it is refused on the lesson, and nothing counts
    assert codes(data["enterGrade"]) == [("INVALID_STATE", ["lessonId"])]
    assert data["enterGrade"]["userErrors"][0]["message"].startswith(f"Урок ещё не начался ({day:%d.%m.%Y} в 08:30)")
    assert await session.scalar(select(func.count(Grade.id))) == 0
    # and a period's final grade keeps its own rule
    final = await gql.data(ENTER, _period_final(world, "5"), token=await world.token(gql, world.teacher))
    assert final["enterGrade"]["userErrors"] == []


async def test_whether_a_lesson_has_started_is_told_by_the_schools_clock(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a school in Vladivostok (UTC+10), with a lesson that began half an hour ago by
    # its clocks (hours ahead by Moscow's) and one that begins in half an hour (hours ago
    # by Moscow's)
    world.school.timezone = "Asia/Vladivostok"
    began = await world.lesson(session, **_at(wall_clock("Asia/Vladivostok", -dt.timedelta(minutes=30))))
    soon = await world.lesson(session, room="102", **_at(wall_clock("Asia/Vladivostok", dt.timedelta(minutes=30))))
    await session.commit()
    token = await world.token(gql, world.teacher)
    # then the one that began takes a grade, and the other does not yet
    assert (await gql.data(ENTER, _enter(world, began), token=token))["enterGrade"]["userErrors"] == []
    refused = await gql.data(ENTER, _enter(world, soon), token=token)
    assert codes(refused["enterGrade"]) == [("INVALID_STATE", ["lessonId"])]


def _at(when: tuple[dt.date, dt.time]) -> dict[str, Any]:
    return {"date": when[0], "start_time": when[1]}
