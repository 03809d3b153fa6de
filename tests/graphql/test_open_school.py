"""openSchool over real HTTP: the school's admin ends the test launch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus
from ediary_gql.db.models.schools import School
from tests.factories import make_school, make_school_admin, make_teacher, make_user
from tests.graphql.test_review_school import operator_token
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
OPEN = """mutation($i: OpenSchoolInput!) {
  openSchool(input: $i) { school { id status launchMode } userErrors { field code message } }
}"""
FIND = "query($q: String!) { schools(filter: {query: $q}) { nodes { shortName launchMode } } }"


async def open_school(gql: GraphQLClient, token: str | None, school: School) -> dict[str, Any]:
    return await gql.post(OPEN, {"i": {"schoolId": to_base64("School", school.id)}}, token=token)


def result(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]["openSchool"]
    return data


async def _test_launch(session: AsyncSession, **kw: Any) -> School:
    return await make_school(session, launch_mode=LaunchMode.TEST, short_name="Школа № 1234 «Созвездие»", **kw)


async def test_the_admin_opens_the_school_to_parents(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an active school in test launch, with its admin, and a parent-to-be
    school = await _test_launch(session)
    await make_school_admin(session, email="admin@example.ru", password=PASSWORD, school=school)
    await make_user(session, email="parent@example.ru", password=PASSWORD)
    await session.commit()
    admin = await gql.sign_in("admin@example.ru", PASSWORD)
    parent = await gql.sign_in("parent@example.ru", PASSWORD)
    # while in test launch, parents do not find it; its staff do
    assert (await gql.data(FIND, {"q": "созвезд"}, token=parent))["schools"]["nodes"] == []
    assert (await gql.data(FIND, {"q": "созвезд"}, token=admin))["schools"]["nodes"] == [
        {"shortName": school.short_name, "launchMode": "TEST"}
    ]
    # when the admin opens it
    opened = result(await open_school(gql, admin, school))
    # then it is OPEN and offered to everyone
    assert opened["userErrors"] == []
    assert opened["school"]["launchMode"] == "OPEN"
    for token in (parent, None):
        assert (await gql.data(FIND, {"q": "созвезд"}, token=token))["schools"]["nodes"] == [
            {"shortName": school.short_name, "launchMode": "OPEN"}
        ]
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "openSchool"))).one()
    assert (entry.before, entry.after) == ({"launchMode": "TEST"}, {"launchMode": "OPEN"})


async def test_an_operator_may_open_a_school(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await _test_launch(session)
    operator = await operator_token(session, gql)
    assert result(await open_school(gql, operator, school))["school"]["launchMode"] == "OPEN"


async def test_an_open_school_cannot_be_opened_again(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await make_school(session)  # active and open
    await make_school_admin(session, email="admin@example.ru", password=PASSWORD, school=school)
    await session.commit()
    admin = await gql.sign_in("admin@example.ru", PASSWORD)
    assert result(await open_school(gql, admin, school))["userErrors"] == [
        {"field": ["schoolId"], "code": "INVALID_STATE", "message": "Школа уже открыта для родителей"}
    ]


async def test_a_pending_school_cannot_be_opened(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await make_school(session, status=SchoolStatus.PENDING)
    operator = await operator_token(session, gql)
    errors = result(await open_school(gql, operator, school))["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["schoolId"], "INVALID_STATE")]
    assert "на проверке" in errors[0]["message"]


async def test_a_teacher_of_the_school_may_not_open_it(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await _test_launch(session)
    await make_teacher(session, email="teacher@example.ru", password=PASSWORD, school=school)
    await session.commit()
    teacher = await gql.sign_in("teacher@example.ru", PASSWORD)
    body = await open_school(gql, teacher, school)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await session.refresh(school)
    assert school.launch_mode == LaunchMode.TEST


async def test_another_schools_admin_does_not_even_find_it(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await _test_launch(session)
    await make_school_admin(session, email="admin@example.ru", password=PASSWORD)  # of a school of their own
    await session.commit()
    other_admin = await gql.sign_in("admin@example.ru", PASSWORD)
    assert result(await open_school(gql, other_admin, school))["userErrors"] == [
        {"field": ["schoolId"], "code": "NOT_FOUND", "message": "Школа не найдена"}
    ]
    body = await open_school(gql, None, school)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await session.refresh(school)
    assert school.launch_mode == LaunchMode.TEST
