"""myStaffBindings and staffBindings: own requests, and the reviewers' keyset-paged queue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.enums import StaffBindingStatus, StaffRole
from ediary_gql.db.models.schools import School
from tests.factories import (
    make_operator,
    make_school,
    make_school_admin,
    make_staff_binding,
    make_teacher,
    make_user,
)
from tests.support import GraphQLClient, StatementCounter

PASSWORD = "correct horse battery"
QUEUE = """query($filter: StaffBindingFilter, $first: Int, $after: String) {
  staffBindings(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id status role user { fullName } school { id shortName } document { fileName url } }
  }
}"""
MINE = "{ myStaffBindings { totalCount nodes { id status school { shortName } document { fileName } } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on StaffBinding { id status document { fileName } } } }"


async def _two_schools(session: AsyncSession) -> tuple[School, School, list[int]]:
    """School A with 3 requests (2 pending), school B with 1 pending; an operator; A's admin;
    A's teacher; the requester of A's first request."""
    a = await make_school(session)
    b = await make_school(session)
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await make_school_admin(session, school=a, email="admin-a@example.ru", password=PASSWORD)
    await make_teacher(session, school=a, email="teacher-a@example.ru", password=PASSWORD)
    olga = await make_user(session, email="olga@example.ru", password=PASSWORD)
    ids = [
        (await make_staff_binding(session, user_id=olga.id, school_id=a.id)).id,
        (await make_staff_binding(session, school_id=a.id, role=StaffRole.INTEGRATOR)).id,
        (await make_staff_binding(session, school_id=a.id, status=StaffBindingStatus.REJECTED)).id,
        (await make_staff_binding(session, user_id=olga.id, school_id=b.id, role=StaffRole.SCHOOL_ADMIN)).id,
    ]
    await session.commit()
    return a, b, ids


def _ids(data: dict[str, object], field: str = "staffBindings") -> list[str]:
    nodes = data[field]["nodes"]  # type: ignore[index]
    return [node["id"] for node in nodes]  # type: ignore[attr-defined]


def gid(pk: int) -> str:
    return to_base64("StaffBinding", pk)


async def test_an_operator_sees_every_request_oldest_first_paged_by_key(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    _, _, ids = await _two_schools(session)
    token = await gql.sign_in("operator@example.ru", PASSWORD)
    first = (await gql.data(QUEUE, {"first": 3}, token=token))["staffBindings"]
    assert first["totalCount"] == 4
    assert [n["id"] for n in first["nodes"]] == [gid(i) for i in ids[:3]]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await gql.data(QUEUE, {"first": 3, "after": first["pageInfo"]["endCursor"]}, token=token)
    assert _ids(rest) == [gid(ids[3])]
    pending = await gql.data(QUEUE, {"filter": {"status": "PENDING"}}, token=token)
    assert _ids(pending) == [gid(ids[0]), gid(ids[1]), gid(ids[3])]
    # a reviewer sees who asks, for which school, and the document
    node = first["nodes"][0]
    assert node["user"]["fullName"]
    assert "/files/" in node["document"]["url"]


async def test_a_school_admin_sees_only_their_schools_requests(gql: GraphQLClient, session: AsyncSession) -> None:
    a, b, ids = await _two_schools(session)
    token = await gql.sign_in("admin-a@example.ru", PASSWORD)
    assert _ids(await gql.data(QUEUE, token=token)) == [gid(i) for i in ids[:3]]
    by_school = await gql.data(QUEUE, {"filter": {"schoolId": to_base64("School", a.id)}}, token=token)
    assert _ids(by_school) == [gid(i) for i in ids[:3]]
    # another school's queue is simply empty for them
    other = await gql.data(QUEUE, {"filter": {"schoolId": to_base64("School", b.id)}}, token=token)
    assert other["staffBindings"]["totalCount"] == 0


async def test_who_may_not_list_requests(gql: GraphQLClient, session: AsyncSession) -> None:
    await _two_schools(session)
    for email in ("teacher-a@example.ru", "olga@example.ru"):
        token = await gql.sign_in(email, PASSWORD)
        body = await gql.post(QUEUE, token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["data"] is None
    anonymous = await gql.post(QUEUE)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_school_filter_needs_a_school_id(gql: GraphQLClient, session: AsyncSession) -> None:
    await _two_schools(session)
    token = await gql.sign_in("operator@example.ru", PASSWORD)
    body = await gql.post(QUEUE, {"filter": {"schoolId": to_base64("User", 1)}}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": ["schoolId"]}


async def test_my_requests_are_my_own_newest_first(gql: GraphQLClient, session: AsyncSession) -> None:
    _, b, ids = await _two_schools(session)
    token = await gql.sign_in("olga@example.ru", PASSWORD)
    mine = (await gql.data(MINE, token=token))["myStaffBindings"]
    assert mine["totalCount"] == 2
    assert [n["id"] for n in mine["nodes"]] == [gid(ids[3]), gid(ids[0])]
    assert mine["nodes"][0]["school"]["shortName"] == b.short_name
    assert mine["nodes"][0]["document"]["fileName"].endswith(".pdf")
    # someone with no requests has none
    admin = await gql.sign_in("admin-a@example.ru", PASSWORD)
    assert (await gql.data(MINE, token=admin))["myStaffBindings"]["totalCount"] == 0
    assert (await gql.post(MINE))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_request_by_node_id_only_for_those_who_may_see_it(gql: GraphQLClient, session: AsyncSession) -> None:
    _, _, ids = await _two_schools(session)
    request_at_b = gid(ids[3])
    for email, visible in (
        ("olga@example.ru", True),
        ("operator@example.ru", True),
        ("admin-a@example.ru", False),
        ("teacher-a@example.ru", False),
    ):
        token = await gql.sign_in(email, PASSWORD)
        node = (await gql.data(NODE, {"id": request_at_b}, token=token))["node"]
        assert (node is not None) == visible, email
    assert (await gql.data(NODE, {"id": request_at_b}))["node"] is None


async def test_statement_count_does_not_grow_with_rows(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    await _two_schools(session)
    token = await gql.sign_in("operator@example.ru", PASSWORD)
    with sql_counter:
        await gql.data(QUEUE, {"first": 1}, token=token)
    one_row = sql_counter.count
    with sql_counter:
        await gql.data(QUEUE, {"first": 4}, token=token)
    assert sql_counter.count == one_row


async def test_the_comment_is_shown_to_whoever_may_see_the_request(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a request at school A with a note for the reviewer, and one without
    a, _, ids = await _two_schools(session)
    olga = await make_user(session, email="olga-2@example.ru", password=PASSWORD)
    noted = await make_staff_binding(session, user_id=olga.id, school_id=a.id, comment="Учитель физики, приказ № 7")
    await session.commit()
    comments = "query($id: ID!) { node(id: $id) { ... on StaffBinding { comment } } }"
    # then the requester, the school's admin and an operator read it
    for email in ("olga-2@example.ru", "admin-a@example.ru", "operator@example.ru"):
        token = await gql.sign_in(email, PASSWORD)
        found = await gql.data(comments, {"id": gid(noted.id)}, token=token)
        assert found["node"] == {"comment": "Учитель физики, приказ № 7"}, email
    # in the queue too, where a request without one has none
    token = await gql.sign_in("admin-a@example.ru", PASSWORD)
    queue = "{ staffBindings(filter: {status: PENDING}) { nodes { id comment } } }"
    nodes = (await gql.data(queue, token=token))["staffBindings"]["nodes"]
    assert {n["id"]: n["comment"] for n in nodes} == {
        gid(ids[0]): None,
        gid(ids[1]): None,
        gid(noted.id): "Учитель физики, приказ № 7",
    }
    # and nobody else: a teacher of the school does not even see the request
    token = await gql.sign_in("teacher-a@example.ru", PASSWORD)
    assert (await gql.data(comments, {"id": gid(noted.id)}, token=token))["node"] is None
