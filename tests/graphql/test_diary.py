"""diary, myChildren, child and Child.averages over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.grades import Grade
from tests.diary_support import MONDAY, PASSWORD, School1, build_school, gid, token
from tests.factories import (
    make_enrolled_child,
    make_guardianship,
    make_operator,
    make_period,
    make_school_class,
    make_staff_membership,
    make_teaching_assignment,
    make_user,
)
from tests.support import GraphQLClient, StatementCounter

DIARY = """
query($c: ID!, $from: Date!, $to: Date!, $s: ID) {
  diary(childId: $c, from: $from, to: $to, subjectId: $s) {
    date
    lessons {
      lesson { id date startTime endTime lessonNumber room topic status }
      subject { id name shortName }
      teacher { id fullName }
      homework { isDone homework { id text dueOn } }
      grades { id value weight comment gradedOn }
      attendance { id status minutesLate }
    }
  }
}"""
MY_CHILDREN = "{ myChildren { id fullName } }"
CHILD = "query($id: ID!) { child(id: $id) { id fullName } }"
AVERAGES = """
query($id: ID!, $p: ID!) {
  child(id: $id) { averages(periodId: $p) { subject { name } average weightedAverage count } }
}"""


def _week(start: dt.date = MONDAY, days: int = 7) -> dict[str, str]:
    return {"from": start.isoformat(), "to": (start + dt.timedelta(days=days - 1)).isoformat()}


async def test_parent_reads_a_week_of_the_diary(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a class with a week of lessons, homework, grades and attendance
    world = await build_school(session, children=2, weeks=1)
    child = world.children[0]
    parent = await token(gql, world.parent)

    # when the parent reads the child's week
    data = await gql.data(DIARY, {"c": gid("Child", child.id), **_week()}, token=parent)

    # then five school days, two lessons each, in order, with the child's own records
    days = data["diary"]
    assert [d["date"] for d in days] == [(MONDAY + dt.timedelta(days=k)).isoformat() for k in range(5)]
    monday = days[0]["lessons"]
    assert [lesson["subject"]["name"] for lesson in monday] == ["Математика", "Русский язык"]
    maths = monday[0]
    assert maths["lesson"]["room"] == "101"
    assert maths["lesson"]["startTime"] == "08:30:00"
    assert maths["teacher"]["fullName"] == "Петрова Анна Ивановна"
    assert [h["isDone"] for h in maths["homework"]] == [True]
    assert maths["homework"][0]["homework"]["text"] == "№ 0"
    assert sorted(g["value"] for g in maths["grades"]) == ["4", "5"]  # the child's, not the classmate's 3
    assert maths["attendance"]["status"] == "LATE"
    russian = monday[1]
    assert russian["homework"] == []
    assert russian["grades"] == []
    assert russian["attendance"] is None


async def test_diary_filters_by_subject(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=1)
    parent = await token(gql, world.parent)
    variables = {"c": gid("Child", world.children[0].id), "s": gid("Subject", world.other_subject.id), **_week()}

    data = await gql.data(DIARY, variables, token=parent)

    names = {lesson["subject"]["name"] for day in data["diary"] for lesson in day["lessons"]}
    assert names == {"Русский язык"}


async def test_diary_range_is_bounded(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=1)
    parent = await token(gql, world.parent)
    child = gid("Child", world.children[0].id)

    too_long = await gql.post(DIARY, {"c": child, **_week(days=32)}, token=parent)
    backwards = await gql.post(DIARY, {"c": child, "from": "2026-09-10", "to": "2026-09-01"}, token=parent)

    for body in (too_long, backwards):
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": ["to"]}


async def test_the_student_teachers_of_the_class_and_admins_read_the_diary(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    world = await build_school(session, weeks=1)
    student = await make_user(session, password=PASSWORD)
    world.children[0].user_id = student.id
    admin = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=admin, school=world.school, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    variables = {"c": gid("Child", world.children[0].id), **_week()}

    for user in (student, world.teacher, admin):
        data = await gql.data(DIARY, variables, token=await token(gql, user))
        assert len(data["diary"]) == 5


async def test_others_are_refused_the_diary(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a child, and people with no business in their diary
    world = await build_school(session, weeks=1)
    other_parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent=other_parent, child=world.children[1])
    other_class = await make_school_class(session, school=world.school)
    other_teacher = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=other_teacher, school=world.school, role=StaffRole.TEACHER)
    await make_teaching_assignment(session, teacher=other_teacher, school_class=other_class, subject=world.subject)
    operator = await make_operator(session, password=PASSWORD)
    await session.commit()
    variables = {"c": gid("Child", world.children[0].id), **_week()}

    # when each of them asks, then FORBIDDEN (and nothing of the diary)
    for user in (other_parent, other_teacher, operator):
        body = await gql.post(DIARY, variables, token=await token(gql, user))
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await gql.post(DIARY, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # an ID of a child that does not exist reads the same as one not yours
    missing = await gql.post(DIARY, {**variables, "c": gid("Child", 10**9)}, token=await token(gql, world.parent))
    assert missing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_diary_statement_count_does_not_grow_with_the_range(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter, is_postgres: bool
) -> None:
    # given four weeks of lessons with homework, grades and attendance
    world = await build_school(session, children=3, weeks=4)
    parent = await token(gql, world.parent)
    child = gid("Child", world.children[0].id)

    # when the diary is read over one week and over four
    with sql_counter:
        week = await gql.data(DIARY, {"c": child, **_week()}, token=parent)
    one_week = sql_counter.count
    with sql_counter:
        month = await gql.data(DIARY, {"c": child, **_week(days=28)}, token=parent)
    four_weeks = sql_counter.count

    # then four times the rows, the same statements: the session with the actor's roles;
    # on PostgreSQL the child's enrolments beside the whole diary as one JSON document,
    # elsewhere the enrolments, then the lessons, their homework, grades and attendance
    assert len(week["diary"]) == 5
    assert len(month["diary"]) == 20
    assert one_week == four_weeks == (2 if is_postgres else 6), sql_counter.statements


EVERY_FIELD = """
query($c: ID!, $from: Date!, $to: Date!, $s: ID) {
  diary(childId: $c, from: $from, to: $to, subjectId: $s) {
    __typename date
    lessons {
      ... on DiaryLesson { lesson { ...L } }
      lesson { id }
      subject { id name shortName sourcedId }
      teacher { id lastName firstName middleName fullName name: fullName }
      homework { isDone homework { id text publishedOn dueOn expectedMinutes __typename } }
      grades { id value numericValue kind weight comment gradedOn isDeleted }
      attendance { id status minutesLate reason }
    }
  }
}
fragment L on Lesson { id date startTime endTime lessonNumber room topic status }"""


@pytest.mark.parametrize("query", [DIARY, EVERY_FIELD])
@pytest.mark.parametrize("by_subject", [False, True])
async def test_compiled_diary_answers_as_field_by_field_resolution(
    gql: GraphQLClient, session: AsyncSession, query: str, by_subject: bool
) -> None:
    # given a week with every kind of record
    world = await build_school(session, children=2, weeks=1)
    parent = await token(gql, world.parent)
    variables = {"c": gid("Child", world.children[0].id), **_week()}
    if by_subject:
        variables["s"] = gid("Subject", world.subject.id)

    # when the diary is read as plain data (a compiled plan), and with a resolver field in
    # each lesson, which sends the whole list through graphql-core field by field (on
    # PostgreSQL both are one SQL document: tests/graphql/test_compiled_parity.py compares
    # that with the ordinary resolvers)
    compiled = await gql.data(query, variables, token=parent)
    resolved = await gql.data(query.replace("lesson { id", "lesson { startsAt id", 1), variables, token=parent)

    # then the answers are the same, field for field and in the same order
    for day in resolved["diary"]:
        for lesson in day["lessons"]:
            assert lesson["lesson"].pop("startsAt").startswith(day["date"])
    assert [json.dumps(d) for d in compiled["diary"]] == [json.dumps(d) for d in resolved["diary"]]


async def test_my_children_and_child(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=0)
    second = await make_enrolled_child(session, class_id=world.school_class.id, last_name="Яковлев")
    await make_guardianship(session, parent=world.parent, child=second)
    student = await make_user(session, password=PASSWORD)
    world.children[1].user_id = student.id
    stranger = await make_user(session, password=PASSWORD)
    await session.commit()

    parent = await token(gql, world.parent)
    mine = (await gql.data(MY_CHILDREN, token=parent))["myChildren"]
    assert {c["id"] for c in mine} == {gid("Child", world.children[0].id), gid("Child", second.id)}
    own = (await gql.data(MY_CHILDREN, token=await token(gql, student)))["myChildren"]
    assert [c["id"] for c in own] == [gid("Child", world.children[1].id)]
    assert (await gql.data(MY_CHILDREN, token=await token(gql, stranger)))["myChildren"] == []
    assert (await gql.post(MY_CHILDREN))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    seen = await gql.data(CHILD, {"id": gid("Child", second.id)}, token=parent)
    assert seen["child"]["id"] == gid("Child", second.id)
    hidden = await gql.data(CHILD, {"id": gid("Child", second.id)}, token=await token(gql, stranger))
    assert hidden["child"] is None


async def test_child_averages(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a week of maths: the child has a 5 (weight 1) and a 4 (weight 2) each day
    world = await build_school(session, weeks=1)
    variables = {"id": gid("Child", world.children[0].id), "p": gid("Period", world.period.id)}

    data = await gql.data(AVERAGES, variables, token=await token(gql, world.parent))

    assert data["child"]["averages"] == [
        {"subject": {"name": "Математика"}, "average": 4.5, "weightedAverage": 4.33, "count": 10}
    ]


CURRENT = """
query($id: ID!, $school: ID!) {
  child(id: $id) { averages { subject { name } average count } }
  school(id: $school) { currentPeriod { id name startsOn endsOn } }
}"""


async def _grades_weeks_ago(session: AsyncSession, world: School1, days_ago: int) -> dt.date:
    """Move the world's grades to `days_ago` days before the school's today; that today."""
    today = dt.datetime.now(ZoneInfo(world.school.timezone)).date()
    shift = (today - dt.timedelta(days=days_ago)) - MONDAY
    for grade in (await session.scalars(select(Grade).where(Grade.child_id.in_([c.id for c in world.children])))).all():
        grade.graded_on += shift
    await session.commit()
    return today


async def _set_period(session: AsyncSession, period: Period, starts: dt.date, ends: dt.date) -> None:
    row = await session.get(Period, period.id)
    assert row is not None
    row.starts_on, row.ends_on = starts, ends
    await session.commit()


async def test_child_averages_default_to_the_current_period_of_the_childs_school(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a quarter graded two weeks ago that goes on until next month, and an earlier one
    world = await build_school(session, weeks=1)
    today = await _grades_weeks_ago(session, world, 20)
    earlier = await make_period(session, academic_year_id=world.period.academic_year_id, number=4)
    await _set_period(session, earlier, today - dt.timedelta(days=120), today - dt.timedelta(days=41))
    await _set_period(session, world.period, today - dt.timedelta(days=40), today + dt.timedelta(days=30))
    parent = await token(gql, world.parent)
    variables = {"id": gid("Child", world.children[0].id), "school": gid("School", world.school.id)}
    maths = [{"subject": {"name": "Математика"}, "average": 4.5, "count": 10}]

    # when the parent asks for averages without naming a period
    data = await gql.data(CURRENT, variables, token=parent)

    # then they are the current quarter's, which the school shows as its currentPeriod
    assert data["child"]["averages"] == maths
    assert data["school"]["currentPeriod"]["id"] == gid("Period", world.period.id)

    # and in the holidays after it, the quarter just ended is still the current one
    await _set_period(session, world.period, today - dt.timedelta(days=40), today - dt.timedelta(days=3))
    await make_period(
        session,
        academic_year_id=world.period.academic_year_id,
        number=2,
        starts_on=today + dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=60),
    )
    await session.commit()
    data = await gql.data(CURRENT, variables, token=parent)
    assert data["child"]["averages"] == maths
    assert data["school"]["currentPeriod"]["id"] == gid("Period", world.period.id)

    # and before the school's first period begins there is none: no period, no averages
    for period in (await session.scalars(select(Period))).all():
        period.starts_on += dt.timedelta(days=400)
        period.ends_on += dt.timedelta(days=400)
    await session.commit()
    data = await gql.data(CURRENT, variables, token=parent)
    assert data == {"child": {"averages": []}, "school": {"currentPeriod": None}}


async def test_current_period_is_hidden_from_those_not_of_the_school(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school in its first quarter, the teacher of another school and someone of none
    world = await build_school(session, weeks=0)
    today = dt.datetime.now(ZoneInfo(world.school.timezone)).date()
    await _set_period(session, world.period, today - dt.timedelta(days=10), today + dt.timedelta(days=10))
    other = await build_school(session, weeks=0)
    stranger = await make_user(session, password=PASSWORD)
    await session.commit()
    query = "query($s: ID!) { school(id: $s) { id currentPeriod { id } } }"
    school = gid("School", world.school.id)

    # when each of them, and the school's own teacher, asks for its current period
    own = await gql.data(query, {"s": school}, token=await token(gql, world.teacher))
    elsewhere = await gql.data(query, {"s": school}, token=await token(gql, other.teacher))
    nobody = await gql.data(query, {"s": school}, token=await token(gql, stranger))

    # then only the school's own people see it
    assert own["school"] == {"id": school, "currentPeriod": {"id": gid("Period", world.period.id)}}
    assert elsewhere["school"] == {"id": school, "currentPeriod": None}
    assert nobody["school"] == {"id": school, "currentPeriod": None}


async def test_default_averages_of_many_children_take_the_same_statements(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    # given a parent of two children and a parent of five, at two schools, each in a current quarter
    counts = []
    for children in (2, 5):
        world = await build_school(session, children=children, weeks=1)
        today = await _grades_weeks_ago(session, world, 20)
        await _set_period(session, world.period, today - dt.timedelta(days=40), today + dt.timedelta(days=30))
        for child in world.children[1:]:
            await make_guardianship(session, parent=world.parent, child=child)
        await session.commit()
        parent = await token(gql, world.parent)
        # when each reads every child's averages of the current period
        with sql_counter:
            data = await gql.data("{ myChildren { averages { average count } } }", token=parent)
        counts.append(sql_counter.count)
        got = sorted(a["average"] for c in data["myChildren"] for a in c["averages"])
        assert got == sorted(4.5 if k % 2 == 0 else 3.5 for k in range(children))

    # then the statements do not grow with the children
    assert counts[0] == counts[1], counts


async def test_child_averages_are_refused_to_those_who_see_only_the_card(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given an operator: they may see a child's card, not the diary
    world = await build_school(session, weeks=1)
    operator = await make_operator(session, password_hash=world.parent.password_hash)
    await session.commit()
    variables = {"id": gid("Child", world.children[0].id), "p": gid("Period", world.period.id)}

    body = await gql.post(AVERAGES, variables, token=await token(gql, operator))

    assert body["data"]["child"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_diary_follows_include_and_skip_per_request(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a week of lessons
    world = await build_school(session, children=1, weeks=1)
    parent = await token(gql, world.parent)
    query = """
    query($c: ID!, $from: Date!, $to: Date!, $t: Boolean!) {
      diary(childId: $c, from: $from, to: $to) { date lessons { lesson { id topic @include(if: $t) } } }
    }"""
    variables = {"c": gid("Child", world.children[0].id), **_week()}

    # when the same document is read with the topic included, then skipped
    shown = await gql.data(query, {**variables, "t": True}, token=parent)
    hidden = await gql.data(query, {**variables, "t": False}, token=parent)

    # then each answer follows its own variables
    assert all("topic" in item["lesson"] for day in shown["diary"] for item in day["lessons"])
    assert all(set(item["lesson"]) == {"id"} for day in hidden["diary"] for item in day["lessons"])
