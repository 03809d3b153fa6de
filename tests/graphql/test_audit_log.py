"""auditLog: operators read every change, a school's admins their school's, nobody else."""

from __future__ import annotations

import base64

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_audit_entry, make_operator, make_school, make_school_admin, make_teacher, make_user
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
LOG = """query($f: AuditLogFilter, $first: Int) {
  auditLog(filter: $f, first: $first) {
    totalCount
    edges { node { action entityType entityId schoolId before after actor { id } } }
  }
}"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def _world(session: AsyncSession) -> dict[str, int]:
    school_a = await make_school(session)
    school_b = await make_school(session)
    admin_a = await make_school_admin(session, school_id=school_a.id, email="admin-a@example.ru", password=PASSWORD)
    await make_operator(session, email="op@example.ru", password=PASSWORD)
    await make_teacher(session, school_id=school_a.id, email="teacher-a@example.ru", password=PASSWORD)
    await make_user(session, email="parent@example.ru", password=PASSWORD)
    await make_audit_entry(
        session,
        school_id=school_a.id,
        action="createClass",
        entity_type="SchoolClass",
        entity_id=11,
        actor_user_id=admin_a.id,
    )
    await make_audit_entry(session, school_id=school_a.id, action="enterGrade", entity_type="Grade", entity_id=12)
    await make_audit_entry(
        session, school_id=school_b.id, action="createClass", entity_type="SchoolClass", entity_id=21
    )
    await session.commit()
    return {"a": school_a.id, "b": school_b.id, "admin_a": admin_a.id}


async def test_school_admin_reads_only_their_school(gql: GraphQLClient, session: AsyncSession) -> None:
    ids = await _world(session)
    token = await gql.sign_in("admin-a@example.ru", PASSWORD)
    log = (await gql.data(LOG, token=token))["auditLog"]
    assert log["totalCount"] == 2
    assert {e["node"]["schoolId"] for e in log["edges"]} == {gid("School", ids["a"])}

    # asking for another school's trail gives nothing, not an error that confirms it exists
    other = (await gql.data(LOG, {"f": {"schoolId": gid("School", ids["b"])}}, token=token))["auditLog"]
    assert other["totalCount"] == 0


async def test_operator_reads_everything_and_filters(gql: GraphQLClient, session: AsyncSession) -> None:
    ids = await _world(session)
    token = await gql.sign_in("op@example.ru", PASSWORD)
    everything = (await gql.data(LOG, token=token))["auditLog"]
    actions = [e["node"]["action"] for e in everything["edges"]]
    assert {"createClass", "enterGrade", "signIn"} <= set(actions)  # the operator's own sign-in is there too

    by_entity = await gql.data(LOG, {"f": {"entityId": gid("SchoolClass", 21)}}, token=token)
    assert [e["node"]["schoolId"] for e in by_entity["auditLog"]["edges"]] == [gid("School", ids["b"])]

    by_actor = await gql.data(LOG, {"f": {"actorId": gid("User", ids["admin_a"])}}, token=token)
    assert [e["node"]["action"] for e in by_actor["auditLog"]["edges"]] == ["createClass"]
    assert by_actor["auditLog"]["edges"][0]["node"]["actor"]["id"] == gid("User", ids["admin_a"])


async def test_teacher_parent_and_anonymous_are_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    await _world(session)
    for login in ("teacher-a@example.ru", "parent@example.ru"):
        token = await gql.sign_in(login, PASSWORD)
        body = await gql.post(LOG, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", login
    assert (await gql.post(LOG))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_entries_by_node_follow_the_same_rule(gql: GraphQLClient, session: AsyncSession) -> None:
    await _world(session)
    op = await gql.sign_in("op@example.ru", PASSWORD)
    entry_b = await gql.data(LOG, {"f": {"entityId": gid("SchoolClass", 21)}}, token=op)
    assert entry_b["auditLog"]["totalCount"] == 1
    node_query = "query($id: ID!) { node(id: $id) { ... on AuditEntry { action } } }"
    full = await gql.data("{ auditLog(first: 50) { edges { node { id entityId } } } }", token=op)
    b_id = next(e["node"]["id"] for e in full["auditLog"]["edges"] if e["node"]["entityId"] == gid("SchoolClass", 21))
    admin_a = await gql.sign_in("admin-a@example.ru", PASSWORD)
    assert (await gql.data(node_query, {"id": b_id}, token=admin_a))["node"] is None
    assert (await gql.data(node_query, {"id": b_id}, token=op))["node"] == {"action": "createClass"}


async def test_operators_see_who_changed_diary_content_but_not_the_values(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a grade entered and attendance marked at school A, and a class created there
    school = await make_school(session)
    await make_school_admin(session, school_id=school.id, email="admin-a@example.ru", password=PASSWORD)
    await make_operator(session, email="op@example.ru", password=PASSWORD)
    grade = {"value": "5", "comment": "Отлично", "childId": 7}
    marks = {"changes": [{"childId": 7, "status": "ABSENT", "reason": "болеет"}]}
    await make_audit_entry(
        session, school_id=school.id, action="enterGrade", entity_type="Grade", entity_id=1, after=grade
    )
    await make_audit_entry(
        session, school_id=school.id, action="markAttendance", entity_type="Lesson", entity_id=2, after=marks
    )
    await make_audit_entry(
        session, school_id=school.id, action="createClass", entity_type="SchoolClass", entity_id=3, after={"name": "5А"}
    )
    await session.commit()
    by_action = {}
    for login in ("op@example.ru", "admin-a@example.ru"):
        token = await gql.sign_in(login, PASSWORD)
        edges = (await gql.data(LOG, token=token))["auditLog"]["edges"]
        by_action[login] = {e["node"]["action"]: e["node"]["after"] for e in edges}
    # then the operator sees which fields changed, with the diary values masked
    assert by_action["op@example.ru"]["enterGrade"] == {"value": "***", "comment": "***", "childId": "***"}
    assert by_action["op@example.ru"]["markAttendance"] == {
        "changes": [{"childId": "***", "status": "***", "reason": "***"}]
    }
    assert by_action["op@example.ru"]["createClass"] == {"name": "5А"}
    # and the school's own admin reads them as they are
    assert by_action["admin-a@example.ru"]["enterGrade"] == grade
    assert by_action["admin-a@example.ru"]["markAttendance"] == marks
