"""nodeBySourcedId and the sourcedId fields: each record found by the school's sourcedId
for whoever may see it (as node(id:)), a person's sourcedId only for the school's admins,
nothing across schools, and the sync's audit values masked for operators."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import StaffMembership
from tests.factories import make_child, make_enrollment, make_roster_link
from tests.support import GraphQLClient
from tests.sync_support import SyncWorld, gid, make_sync_world, sync

LOOKUP = """
query($s: ID!, $t: SourcedType!, $id: String!) {
  nodeBySourcedId(schoolId: $s, type: $t, sourcedId: $id) {
    __typename id
    ... on Child { sourcedId }
    ... on SchoolClass { sourcedId }
    ... on Subject { sourcedId }
    ... on Lesson { sourcedId }
    ... on Grade { sourcedId }
    ... on Attendance { sourcedId }
    ... on User { sourcedId }
  }
}"""


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


@pytest.fixture
async def lessons(session: AsyncSession, sw: SyncWorld) -> list[Lesson]:
    return await sw.lessons(session, 2)


async def _find(gql: GraphQLClient, token: str, sw: SyncWorld, kind: str, sid: str) -> dict[str, Any] | None:
    data = await gql.data(LOOKUP, {"s": gid("School", sw.school.id), "t": kind, "id": sid}, token=token)
    found: dict[str, Any] | None = data["nodeBySourcedId"]
    return found


async def _synced(gql: GraphQLClient, sw: SyncWorld) -> tuple[str, str]:
    """A grade G-1 and a mark A-1 of the child at L-1; their global IDs."""
    token = await sw.token(gql, sw.admin)
    graded = await sync(
        gql,
        token,
        "syncGrades",
        sw,
        [{"sourcedId": "G-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "value": "5"}],
        selection="items { grade { id } }",
    )
    marked = await sync(
        gql,
        token,
        "syncAttendance",
        sw,
        [{"sourcedId": "A-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "status": "PRESENT"}],
        selection="items { attendance { id } }",
    )
    return graded["items"][0]["grade"]["id"], marked["items"][0]["attendance"]["id"]


async def test_the_schools_admin_finds_every_kind_of_record(
    gql: GraphQLClient, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    grade_id, mark_id = await _synced(gql, sw)
    token = await sw.token(gql, sw.admin)
    expected = {
        ("CHILD", "STU-1"): ("Child", gid("Child", sw.child.id)),
        ("SCHOOL_CLASS", "CLS-1"): ("SchoolClass", gid("SchoolClass", sw.school_class.id)),
        ("SUBJECT", "SUB-MATH"): ("Subject", gid("Subject", sw.subject.id)),
        ("LESSON", "L-1"): ("Lesson", gid("Lesson", lessons[0].id)),
        ("GRADE", "G-1"): ("Grade", grade_id),
        ("ATTENDANCE", "A-1"): ("Attendance", mark_id),
        ("TEACHER", "T-1"): ("User", gid("User", sw.teacher.id)),
        ("GUARDIAN", "G-1"): ("User", gid("User", sw.parent.id)),
    }
    for (kind, sid), (typename, node_id) in expected.items():
        found = await _find(gql, token, sw, kind, sid)
        assert found == {"__typename": typename, "id": node_id, "sourcedId": sid}, (kind, found)
    # a sourcedId of another type, or none, finds nothing
    assert await _find(gql, token, sw, "LESSON", "STU-1") is None
    assert await _find(gql, token, sw, "GRADE", "NOPE") is None


async def test_others_find_only_what_they_may_see(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    await _synced(gql, sw)
    # the child's parent: their child and its grade, not the classmate, not people by sourcedId
    parent = await sw.token(gql, sw.parent)
    assert (await _find(gql, parent, sw, "CHILD", "STU-1")) is not None
    assert (await _find(gql, parent, sw, "GRADE", "G-1")) is not None
    assert await _find(gql, parent, sw, "CHILD", "STU-2") is None
    assert await _find(gql, parent, sw, "TEACHER", "T-1") is None
    # the teacher: the lesson, and the colleague's card, but not the colleague's sourcedId
    teacher = await sw.token(gql, sw.teacher)
    assert (await _find(gql, teacher, sw, "LESSON", "L-1")) is not None
    colleague = await _find(gql, teacher, sw, "TEACHER", "T-2")
    assert colleague == {"__typename": "User", "id": gid("User", sw.other_teacher.id), "sourcedId": None}
    assert await _find(gql, teacher, sw, "GUARDIAN", "G-1") is None
    # another school's admin: nothing of this school, even where its own records share the ids
    foreign = await sw.token(gql, sw.foreign_admin)
    for kind, sid in [("CHILD", "STU-1"), ("LESSON", "L-1"), ("GRADE", "G-1"), ("TEACHER", "T-1"), ("GUARDIAN", "G-1")]:
        assert await _find(gql, foreign, sw, kind, sid) is None, kind
    # the operator: children's cards as node() shows them, no diary records
    operator = await sw.token(gql, sw.operator)
    assert await _find(gql, operator, sw, "GRADE", "G-1") is None
    assert await _find(gql, operator, sw, "ATTENDANCE", "A-1") is None


async def test_a_persons_sourced_id_is_the_schools_admins_to_see(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    # given the teacher is also known to the other school, under another sourcedId
    other_school = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == sw.foreign_admin.id)
    )
    assert other_school is not None
    await make_roster_link(session, school_id=other_school, kind="TEACHER", external_id="X-9", target_id=sw.teacher.id)
    await session.commit()
    query = """query($id: ID!, $s: ID, $o: ID) { node(id: $id) { ... on User {
        here: sourcedId mine: sourcedId(schoolId: $s) there: sourcedId(schoolId: $o) } } }"""
    variables = {
        "id": gid("User", sw.teacher.id),
        "s": gid("School", sw.school.id),
        "o": gid("School", other_school),
    }

    async def seen(user: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = (await gql.data(query, variables, token=await sw.token(gql, user)))["node"]
        return found

    assert await seen(sw.admin) == {"here": "T-1", "mine": "T-1", "there": None}
    assert await seen(sw.foreign_admin) is None  # the teacher is no staff of theirs: no card at all
    assert await seen(sw.other_teacher) == {"here": None, "mine": None, "there": None}
    assert await seen(sw.teacher) == {"here": None, "mine": None, "there": None}


async def test_sourced_ids_on_the_records(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    grade_id, mark_id = await _synced(gql, sw)
    hand_made = await make_child(session, school_id=sw.school.id)
    await make_enrollment(session, child_id=hand_made.id, class_id=sw.school_class.id)
    await session.commit()
    query = """query($ids: [ID!]!) { nodes(ids: $ids) {
        ... on Child { sourcedId } ... on Lesson { sourcedId } ... on Grade { sourcedId }
        ... on Attendance { sourcedId } ... on SchoolClass { sourcedId } } }"""
    ids = [
        gid("Child", sw.child.id),
        gid("Child", hand_made.id),
        gid("Lesson", lessons[1].id),
        grade_id,
        mark_id,
        gid("SchoolClass", sw.school_class.id),
    ]
    data = await gql.data(query, {"ids": ids}, token=await sw.token(gql, sw.admin))
    assert [n["sourcedId"] for n in data["nodes"]] == ["STU-1", None, "L-2", "G-1", "A-1", "CLS-1"]


async def test_operators_see_who_synced_but_not_the_diary_values(
    gql: GraphQLClient, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    await _synced(gql, sw)
    query = """{ auditLog(filter: {action: "syncGrades"}) { nodes { action after actor { id } } } }"""
    admin = (await gql.data(query, token=await sw.token(gql, sw.admin)))["auditLog"]["nodes"]
    operator = (await gql.data(query, token=await sw.token(gql, sw.operator)))["auditLog"]["nodes"]
    assert admin[0]["after"]["changes"][0]["after"]["value"] == "5"
    assert operator[0]["actor"] == {"id": gid("User", sw.admin.id)}
    assert operator[0]["after"] != admin[0]["after"]
    assert "5" not in str(operator[0]["after"]["changes"])


async def test_the_diary_and_the_journal_show_sourced_ids(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    # (on PostgreSQL these selections are rendered as one statement building the JSON)
    diary = """query($c: ID!, $from: Date!, $to: Date!) {
      diary(childId: $c, from: $from, to: $to) { lessons { lesson { sourcedId } subject { sourcedId } } } }"""
    day = lessons[0].date.isoformat()
    data = await gql.data(
        diary, {"c": gid("Child", sw.child.id), "from": day, "to": day}, token=await sw.token(gql, sw.parent)
    )
    assert [x["lesson"]["sourcedId"] for d in data["diary"] for x in d["lessons"]] == ["L-1", "L-2"]
    journal = """query($c: ID!, $s: ID!, $p: ID!) {
      classJournal(classId: $c, subjectId: $s, periodId: $p) { lessons { sourcedId } rows { child { sourcedId } } } }"""
    variables = {
        "c": gid("SchoolClass", sw.school_class.id),
        "s": gid("Subject", sw.subject.id),
        "p": gid("Period", sw.period.id),
    }
    found = (await gql.data(journal, variables, token=await sw.token(gql, sw.teacher)))["classJournal"]
    assert [x["sourcedId"] for x in found["lessons"]] == ["L-1", "L-2"]
    assert sorted(r["child"]["sourcedId"] for r in found["rows"]) == ["STU-1", "STU-2"]
