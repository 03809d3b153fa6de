"""Sync by an integration over HTTP, with a token of the client-credentials grant: 1,000
grades in one call (a re-run changes nothing), each call refused without its scope or at
another school, and people's sourcedIds for a roster scope. Runs once the integrations'
test support (tests/integration_support.py) is there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.integrations import Integration
from ediary_gql.db.models.schools import StaffMembership
from tests.diary_writes_support import error_codes
from tests.support import GraphQLClient
from tests.sync_support import MONDAY, SyncWorld, gid, make_sync_world, sync

support = pytest.importorskip("tests.integration_support")

CHILDREN, LESSONS = 25, 40  # 1,000 child × lesson pairs


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    world = await make_sync_world(session)
    await world.children(session, CHILDREN - 2)
    await world.lessons(session, LESSONS)
    return world


async def _token(gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, school_id: int, *scopes: str) -> str:
    admin = await sw.token(gql, sw.admin)
    client_id, secret = await support.make_integration(
        session, gql, school_id=school_id, admin_token=admin, scopes=list(scopes)
    )
    token: str = await support.integration_token(gql.http, client_id, secret)
    return token


def _grades(count: int, value: str = "5") -> list[dict[str, Any]]:
    pairs = [(f"STU-{c + 1}", f"L-{n + 1}") for n in range(LESSONS) for c in range(CHILDREN)][:count]
    return [
        {"sourcedId": f"RES-{n}", "childSourcedId": c, "lessonSourcedId": lesson, "value": value}
        for n, (c, lesson) in enumerate(pairs)
    ]


async def test_an_integration_syncs_a_thousand_grades_and_a_rerun_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    token = await _token(gql, session, sw, sw.school.id, "grades:write")
    payload = await sync(gql, token, "syncGrades", sw, _grades(1000))
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 1000, "updated": 0, "unchanged": 0}
    again = await sync(gql, token, "syncGrades", sw, _grades(1000))
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 1000}
    assert await session.scalar(select(func.count(Grade.id))) == 1000
    # written by the integration's own user: the grades' author, the audit log's actor
    integration = await session.scalar(select(Integration))
    assert integration is not None
    authors = set(await session.scalars(select(Grade.teacher_id)))
    assert authors == {integration.user_id}
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "syncGrades"))
    assert entry is not None
    assert entry.actor_user_id == integration.user_id


SYNCS = {
    "syncGrades": (
        "grades:write",
        {"sourcedId": "G-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "value": "5"},
    ),
    "syncAttendance": (
        "attendance:write",
        {"sourcedId": "A-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "status": "PRESENT"},
    ),
    "syncLessons": (
        "roster:write",
        {
            "sourcedId": "L-NEW",
            "classSourcedId": "CLS-1",
            "subjectSourcedId": "SUB-MATH",
            "teacherSourcedId": "T-1",
            "date": MONDAY.isoformat(),
            "startTime": "16:00",
            "endTime": "16:45",
        },
    ),
}


@pytest.mark.parametrize("mutation", sorted(SYNCS))
async def test_each_call_takes_its_scope(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, mutation: str
) -> None:
    scope, item = SYNCS[mutation]
    others = [s for s, _ in SYNCS.values() if s != scope] + ["roster:read", "diary:read", "events:read"]
    name = mutation[0].upper() + mutation[1:]
    query = f"mutation($i: {name}Input!) {{ {mutation}(input: $i) {{ applied userErrors {{ code }} }} }}"
    variables = {"i": {"schoolId": gid("School", sw.school.id), "items": [item]}}
    # without the scope: refused
    without = await _token(gql, session, sw, sw.school.id, *others)
    assert error_codes(await gql.post(query, variables, token=without)) == ["FORBIDDEN"]
    # with it: written
    with_scope = await _token(gql, session, sw, sw.school.id, scope)
    assert (await gql.data(query, variables, token=with_scope))[mutation]["applied"] is True


@pytest.mark.parametrize("mutation", sorted(SYNCS))
async def test_another_schools_integration_is_refused(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, mutation: str
) -> None:
    other_school = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == sw.foreign_admin.id)
    )
    assert other_school is not None
    foreign_admin = await sw.token(gql, sw.foreign_admin)
    scopes = [s for s, _ in SYNCS.values()]
    client_id, secret = await support.make_integration(
        session, gql, school_id=other_school, admin_token=foreign_admin, scopes=scopes
    )
    token = await support.integration_token(gql.http, client_id, secret)
    _, item = SYNCS[mutation]
    name = mutation[0].upper() + mutation[1:]
    body = await gql.post(
        f"mutation($i: {name}Input!) {{ {mutation}(input: $i) {{ applied }} }}",
        {"i": {"schoolId": gid("School", sw.school.id), "items": [item]}},
        token=token,
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_roster_scope_finds_people_by_sourced_id(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    query = """query($s: ID!, $id: String!) { nodeBySourcedId(schoolId: $s, type: TEACHER, sourcedId: $id) {
        id ... on User { sourcedId } } }"""
    variables = {"s": gid("School", sw.school.id), "id": "T-1"}
    reader = await _token(gql, session, sw, sw.school.id, "roster:read")
    assert (await gql.data(query, variables, token=reader))["nodeBySourcedId"] == {
        "id": gid("User", sw.teacher.id),
        "sourcedId": "T-1",
    }
    grader = await _token(gql, session, sw, sw.school.id, "grades:write")
    assert (await gql.data(query, variables, token=grader))["nodeBySourcedId"] is None
