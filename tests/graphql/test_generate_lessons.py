"""createTimetableTemplate and generateLessons over HTTP: holidays and days off skipped,
idempotent, double bookings reported with the lesson named, who may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.lessons import Lesson
from tests.diary_writes_support import World, codes, error_codes, gid
from tests.factories import make_holiday, make_school_class
from tests.support import GraphQLClient

TEMPLATE = """
mutation($i: CreateTimetableTemplateInput!) {
  createTimetableTemplate(input: $i) {
    template { id name period { id } schoolClass { id }
               slots { weekday startTime endTime room subject { name } teacher { id } } }
    userErrors { field code message }
  }
}"""
GENERATE = """
mutation($i: GenerateLessonsInput!) {
  generateLessons(input: $i) {
    lessons { id date startTime }
    alreadyPresentCount
    skipped { date startTime code message conflictingLesson { id } }
    userErrors { field code message }
  }
}"""


def _slot(world: World, weekday: int, start: str, end: str, **overrides: Any) -> dict[str, Any]:
    slot: dict[str, Any] = {
        "weekday": weekday,
        "startTime": start,
        "endTime": end,
        "subjectId": gid("Subject", world.subject.id),
        "teacherId": gid("User", world.teacher.id),
        "room": "101",
        "lessonNumber": 1,
    }
    slot.update(overrides)
    return slot


def _template(world: World, *slots: dict[str, Any]) -> dict[str, Any]:
    return {
        "i": {
            "classId": gid("SchoolClass", world.school_class.id),
            "periodId": gid("Period", world.period.id),
            "name": "Основное расписание",
            "slots": list(slots),
        }
    }


async def test_generate_skips_holidays_and_is_idempotent(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a Monday and Wednesday maths lesson, and a school day off on Wednesday 9 September
    await make_holiday(
        session,
        school_id=world.school.id,
        name="День здоровья",
        starts_on=dt.date(2026, 9, 9),
        ends_on=dt.date(2026, 9, 9),
    )
    await session.commit()
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        TEMPLATE,
        _template(world, _slot(world, 1, "08:30:00", "09:15:00"), _slot(world, 3, "09:25:00", "10:10:00")),
        token=token,
    )
    template = data["createTimetableTemplate"]["template"]
    assert data["createTimetableTemplate"]["userErrors"] == []
    assert [s["weekday"] for s in template["slots"]] == [1, 3]
    variables = {"i": {"templateId": template["id"], "from": "2026-09-07", "to": "2026-09-20"}}

    # when lessons are generated over two weeks
    data = await gql.data(GENERATE, variables, token=token)
    # then Mondays 7 and 14, Wednesday 16 are made; Wednesday 9 is a day off
    made = data["generateLessons"]
    assert sorted(lesson["date"] for lesson in made["lessons"]) == ["2026-09-07", "2026-09-14", "2026-09-16"]
    assert made["skipped"] == []

    # when generated again, nothing new is made
    data = await gql.data(GENERATE, variables, token=token)
    assert (data["generateLessons"]["lessons"], data["generateLessons"]["alreadyPresentCount"]) == ([], 3)
    assert await session.scalar(select(func.count(Lesson.id))) == 3


async def test_public_holidays_are_skipped(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    # given a Wednesday slot and the 2nd quarter, which has 4 November (Unity Day, a Wednesday in 2026)
    from tests.factories import make_period

    q2 = await make_period(session, academic_year_id=world.year.id, number=2, starts_on=dt.date(2026, 11, 2))
    await session.commit()
    token = await world.token(gql, world.admin)
    variables = _template(world, _slot(world, 3, "08:30:00", "09:15:00"))
    variables["i"]["periodId"] = gid("Period", q2.id)
    template = (await gql.data(TEMPLATE, variables, token=token))["createTimetableTemplate"]["template"]
    data = await gql.data(
        GENERATE, {"i": {"templateId": template["id"], "from": "2026-11-02", "to": "2026-11-13"}}, token=token
    )
    assert [lesson["date"] for lesson in data["generateLessons"]["lessons"]] == ["2026-11-11"]


async def test_conflicting_slots_are_reported_with_the_lesson_named(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given the teacher already teaches another class on Monday 7 September at 08:30
    other_class = await make_school_class(session, school_id=world.school.id, academic_year_id=world.year.id)
    busy = await world.lesson(
        session, school_class=other_class, start_time=dt.time(8, 30), end_time=dt.time(9, 15), room="300"
    )
    await session.commit()
    token = await world.token(gql, world.admin)
    template = (await gql.data(TEMPLATE, _template(world, _slot(world, 1, "08:30:00", "09:15:00")), token=token))[
        "createTimetableTemplate"
    ]["template"]
    data = await gql.data(
        GENERATE, {"i": {"templateId": template["id"], "from": "2026-09-07", "to": "2026-09-14"}}, token=token
    )
    result = data["generateLessons"]
    assert [lesson["date"] for lesson in result["lessons"]] == ["2026-09-14"]
    [skipped] = result["skipped"]
    assert (skipped["date"], skipped["code"]) == ("2026-09-07", "CONFLICT")
    assert skipped["conflictingLesson"]["id"] == gid("Lesson", busy.id)
    assert gid("Lesson", busy.id) in skipped["message"]


async def test_template_problems_at_once(gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.admin)
    data = await gql.data(
        TEMPLATE,
        _template(
            world,
            _slot(world, 8, "08:30:00", "09:15:00"),
            _slot(world, 1, "09:00:00", "08:00:00", teacherId=gid("User", world.foreign_teacher.id)),
            _slot(world, 2, "08:30:00", "09:15:00"),
            _slot(world, 2, "09:00:00", "09:45:00"),
        ),
        token=token,
    )
    assert sorted(codes(data["createTimetableTemplate"])) == [
        ("CONFLICT", ["slots", "3", "startTime"]),
        ("INVALID", ["slots", "0", "weekday"]),
        ("INVALID", ["slots", "1", "endTime"]),
        ("NOT_FOUND", ["slots", "1", "teacherId"]),
    ]
    data = await gql.data(
        GENERATE,
        {"i": {"templateId": gid("TimetableTemplate", 999), "from": "2026-09-07", "to": "2026-09-01"}},
        token=token,
    )
    assert codes(data["generateLessons"]) == [("NOT_FOUND", ["templateId"])]


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin", "operator"])
async def test_others_may_not_make_or_generate_timetables(
    gql: GraphQLClient, session: AsyncSession, world: World, who: str
) -> None:
    admin = await world.token(gql, world.admin)
    template = (await gql.data(TEMPLATE, _template(world, _slot(world, 1, "08:30:00", "09:15:00")), token=admin))[
        "createTimetableTemplate"
    ]["template"]
    token = await world.token(gql, getattr(world, who))
    body = await gql.post(TEMPLATE, _template(world, _slot(world, 1, "08:30:00", "09:15:00")), token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql.post(
        GENERATE, {"i": {"templateId": template["id"], "from": "2026-09-07", "to": "2026-09-14"}}, token=token
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Lesson.id))) == 0


async def test_a_slot_names_only_a_teacher_assigned_to_the_class_and_subject(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a teacher of the school who is not assigned to maths in the class
    token = await world.token(gql, world.admin)
    # when a template names her in its third slot
    slots = [
        _slot(world, 1, "08:30:00", "09:15:00"),
        _slot(world, 2, "08:30:00", "09:15:00"),
        _slot(world, 3, "08:30:00", "09:15:00", teacherId=gid("User", world.other_teacher.id)),
    ]
    data = await gql.data(TEMPLATE, _template(world, *slots), token=token)
    # then that slot's teacher is refused, and no template is made
    assert codes(data["createTimetableTemplate"]) == [("INVALID", ["slots", "2", "teacherId"])]
    assert "не назначен" in data["createTimetableTemplate"]["userErrors"][0]["message"]
    assert data["createTimetableTemplate"]["template"] is None
    # and once she is assigned, the same template is made
    from tests.factories import make_teaching_assignment

    await make_teaching_assignment(
        session, teacher_id=world.other_teacher.id, class_id=world.school_class.id, subject_id=world.subject.id
    )
    await session.commit()
    data = await gql.data(TEMPLATE, _template(world, *slots), token=token)
    assert data["createTimetableTemplate"]["userErrors"] == []
