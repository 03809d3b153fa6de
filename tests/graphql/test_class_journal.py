"""classJournal over real HTTP: the grid, averages, who may read it, statement counts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import StaffRole
from tests.diary_support import PASSWORD, School1, build_school, gid, token
from tests.factories import (
    make_operator,
    make_period,
    make_staff_membership,
    make_subject,
    make_teaching_assignment,
    make_user,
)
from tests.support import GraphQLClient, StatementCounter

JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    classId subjectId periodId
    lessons { id date topic }
    children { id }
    rows {
      child { id fullName }
      cells { lessonId grades { value weight } attendance { status } }
      average { subject { name } average weightedAverage count }
    }
  }
}"""


def _vars(world: School1) -> dict[str, str]:
    return {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }


async def test_teacher_reads_the_journal_of_their_class(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a week of maths in a class of three
    world = await build_school(session, children=3, weeks=1)

    # when its maths teacher opens the journal
    data = await gql.data(JOURNAL, _vars(world), token=await token(gql, world.teacher))

    # then a row per child with a cell per maths lesson, and each child's averages
    journal = data["classJournal"]
    assert len(journal["lessons"]) == 5
    assert {r["child"]["id"] for r in journal["rows"]} == {gid("Child", c.id) for c in world.children}
    assert [c["id"] for c in journal["children"]] == [r["child"]["id"] for r in journal["rows"]]
    first = next(r for r in journal["rows"] if r["child"]["id"] == gid("Child", world.children[0].id))
    assert [c["lessonId"] for c in first["cells"]] == [lesson["id"] for lesson in journal["lessons"]]
    assert sorted(g["value"] for g in first["cells"][0]["grades"]) == ["4", "5"]
    assert first["cells"][0]["attendance"] == {"status": "LATE"}
    assert first["average"] == {
        "subject": {"name": "Математика"},
        "average": 4.5,
        "weightedAverage": 4.33,
        "count": 10,
    }


async def test_school_admin_reads_any_journal_of_the_school(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, children=1, weeks=1)
    admin = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=admin, school=world.school, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()

    data = await gql.data(JOURNAL, _vars(world), token=await token(gql, admin))

    assert len(data["classJournal"]["rows"]) == 1


async def test_others_are_refused_the_journal(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a teacher of another subject in the class, a parent, an operator
    world = await build_school(session, children=1, weeks=1)
    other_teacher = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=other_teacher, school=world.school, role=StaffRole.TEACHER)
    await make_teaching_assignment(
        session, teacher=other_teacher, school_class=world.school_class, subject=world.other_subject
    )
    operator = await make_operator(session, password=PASSWORD)
    await session.commit()

    for user in (other_teacher, world.parent, operator):
        body = await gql.post(JOURNAL, _vars(world), token=await token(gql, user))
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.post(JOURNAL, _vars(world)))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_journal_of_a_subject_or_period_of_elsewhere_is_not_found(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    world = await build_school(session, children=1, weeks=0)
    foreign_subject = await make_subject(session)
    foreign_period = await make_period(session)
    await session.commit()
    variables = {**_vars(world), "s": gid("Subject", foreign_subject.id), "p": gid("Period", foreign_period.id)}

    body = await gql.post(JOURNAL, variables, token=await token(gql, world.teacher))

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # not assigned to that subject either
    admin = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=admin, school=world.school, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    body = await gql.post(JOURNAL, variables, token=await token(gql, admin))
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": ["subjectId"]}
    assert body["errors"][0]["message"].startswith("Предмет не найден в этой школе")
    assert "Период не найден" in body["errors"][0]["message"]


async def test_journal_statement_count_does_not_grow_with_the_class(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter, is_postgres: bool
) -> None:
    # given a class of 10 and a class of 30, each with a week of graded, marked lessons
    small = await build_school(session, children=10, weeks=1)
    large = await build_school(session, children=30, weeks=1)

    # when each teacher reads their journal
    small_teacher, large_teacher = await token(gql, small.teacher), await token(gql, large.teacher)
    with sql_counter:
        ten = await gql.data(JOURNAL, _vars(small), token=small_teacher)
    for_ten = sql_counter.count
    with sql_counter:
        thirty = await gql.data(JOURNAL, _vars(large), token=large_teacher)
    for_thirty = sql_counter.count

    # then three times the rows, the same statements: the session with the actor's roles,
    # the access facts, then on PostgreSQL the whole journal as one JSON document, elsewhere
    # the children, lessons, grades, attendance and averages
    assert len(ten["classJournal"]["rows"]) == 10
    assert len(thirty["classJournal"]["rows"]) == 30
    assert for_ten == for_thirty == (3 if is_postgres else 7), sql_counter.statements


EVERY_FIELD = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    __typename classId subjectId periodId
    lessons { ...L }
    children { ...C }
    rows {
      child { id ...C }
      cells { lessonId lesson: lessonId grades { ...G } attendance { id status minutesLate reason } }
      average { subject { id name shortName sourcedId } average weightedAverage count }
    }
  }
}
fragment L on Lesson { id date startTime endTime lessonNumber room topic status }
fragment C on Child { id lastName firstName middleName birthDate sex citizenship fullName }
fragment G on Grade { id value numericValue kind weight comment gradedOn isDeleted __typename }"""


@pytest.mark.parametrize("query", [JOURNAL, EVERY_FIELD])
async def test_compiled_journal_answers_as_field_by_field_resolution(
    gql: GraphQLClient, session: AsyncSession, query: str
) -> None:
    # given a week of maths in a class of three
    world = await build_school(session, children=3, weeks=1)
    teacher = await token(gql, world.teacher)

    # when the journal is read as plain data (compiled, or on PostgreSQL as one document),
    # and with a resolver field in each row's child, which sends the rows through
    # graphql-core field by field
    compiled = await gql.data(query, _vars(world), token=teacher)
    with_resolver = query.replace("child { id", "child { currentClass { id } id")
    resolved = await gql.data(with_resolver, _vars(world), token=teacher)

    # then the answers are the same, field for field and in the same order
    for row in resolved["classJournal"]["rows"]:
        assert row["child"].pop("currentClass") == {"id": gid("SchoolClass", world.school_class.id)}
    assert json.dumps(compiled) == json.dumps(resolved)
