"""The change feed read by an integration (OAuth2 client credentials): with events:read at
its school it reads every change there, its sync calls included; it reads a record only
with diary:read; without events:read, or at another school, it is refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.schools import StaffMembership
from tests.changes_support import CHANGES_WITH_RECORDS, changes, grade, kinds, school_gid
from tests.diary_writes_support import error_codes, gid
from tests.support import GraphQLClient
from tests.sync_support import MONDAY, SyncWorld, make_sync_world, sync

support = pytest.importorskip("tests.integration_support")


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


async def _token(gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, school_id: int, *scopes: str) -> str:
    admin = await sw.token(gql, sw.admin if school_id == sw.school.id else sw.foreign_admin)
    client_id, secret = await support.make_integration(
        session, gql, school_id=school_id, admin_token=admin, scopes=list(scopes)
    )
    token: str = await support.integration_token(gql.http, client_id, secret)
    return token


def _lesson(sid: str, start: str, end: str) -> dict[str, Any]:
    return {
        "sourcedId": sid,
        "classSourcedId": "CLS-1",
        "subjectSourcedId": "SUB-MATH",
        "teacherSourcedId": "T-1",
        "date": MONDAY.isoformat(),
        "startTime": start,
        "endTime": end,
    }


async def test_an_integration_with_events_read_follows_its_schools_changes_and_its_own_syncs(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    # given an integration that syncs lessons and reads the feed
    token = await _token(gql, session, sw, sw.school.id, "roster:write", "events:read")
    start = (await changes(gql, token))["cursor"]  # its school's, without naming it
    # when it syncs two lessons, then moves one, and a teacher grades at the other by hand
    payload = await sync(
        gql, token, "syncLessons", sw, [_lesson("L-1", "08:30", "09:15"), _lesson("L-2", "09:25", "10:10")]
    )
    assert payload["userErrors"] == []
    moved = await sync(gql, token, "syncLessons", sw, [_lesson("L-1", "10:20", "11:05")])
    assert moved["summary"] == {"created": 0, "updated": 1, "unchanged": 0}
    again = await sync(gql, token, "syncLessons", sw, [_lesson("L-1", "10:20", "11:05")])
    assert again["summary"]["unchanged"] == 1  # a rerun changes nothing, and tells nothing
    page = await changes(gql, token, after=start)
    lessons = [(c["type"], c["action"]) for c in page["changes"]]
    assert lessons == [("LESSON", "CREATED"), ("LESSON", "CREATED"), ("LESSON", "UPDATED")]
    # the records are there by ID, but an integration without diary:read does not read them
    records = await gql.data(CHANGES_WITH_RECORDS, {"after": start}, token=token)
    assert [c["record"] for c in records["changes"]["changes"]] == [None, None, None]


async def test_an_integration_reads_the_changed_records_with_diary_read(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    lessons = await sw.lessons(session, 1)
    token = await _token(gql, session, sw, sw.school.id, "events:read", "diary:read")
    start = (await changes(gql, token))["cursor"]
    grade_id = await grade(gql, await sw.token(gql, sw.teacher), sw.world, lessons[0])
    records = await gql.data(CHANGES_WITH_RECORDS, {"after": start}, token=token)
    assert records["changes"]["changes"] == [
        {"type": "GRADE", "action": "CREATED", "recordId": grade_id, "record": {"id": grade_id, "__typename": "Grade"}}
    ]


async def test_an_integration_without_events_read_or_at_another_school_is_refused(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    writer = await _token(gql, session, sw, sw.school.id, "grades:write", "diary:read")
    body = await gql.post("query { changes { cursor } }", token=writer)
    assert error_codes(body) == ["FORBIDDEN"]
    # an integration of the other school, naming this one
    other = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == sw.foreign_admin.id)
    )
    assert other is not None
    foreign = await _token(gql, session, sw, other, "events:read")
    body = await gql.post(
        "query($s: ID) { changes(schoolId: $s) { cursor } }", {"s": school_gid(sw.world)}, token=foreign
    )
    assert error_codes(body) == ["FORBIDDEN"]
    # its own school's feed it reads, without this school's changes
    assert kinds(await changes(gql, foreign, school=gid("School", other))) == []
