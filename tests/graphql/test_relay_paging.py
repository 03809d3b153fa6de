"""Every connection pages both ways (Relay `first/after` and `last/before`) over the same items,
with pageInfo as the Relay cursor spec gives it, on the demo school's data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import ReportScope
from ediary_gql.db.models.personal_data import DataRequestKind
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD, seed_demo
from tests.factories.audit import make_audit_entry
from tests.factories.children import make_child_transfer
from tests.factories.feedback import make_feedback_ticket
from tests.factories.integrations import make_webhook, make_webhook_delivery
from tests.factories.messages import make_thread, make_thread_participant
from tests.factories.personal_data import make_data_request, make_sensitive_read
from tests.factories.reports import make_report
from tests.factories.schools import make_school, make_staff_binding
from tests.support import GraphQLClient, StatementCounter

PAGE = "first: $first, after: $after, last: $last, before: $before"
VARS = "$first: Int, $after: String, $last: Int, $before: String"
CONN = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"


@dataclass(frozen=True)
class Case:
    """A connection: who reads it, the query (`PAGE` where its paging arguments go) and the path to it."""

    name: str
    login: str
    query: str
    path: tuple[str, ...]
    extra: str = ""  # more variables of the query

    def text(self) -> str:
        return f"query({VARS}{self.extra}) {{ {self.query.replace('PAGE', PAGE).replace('CONN', CONN)} }}"


def _login(role: str) -> str:
    return f"{role}@demo.ediary.ru"


CASES = [
    Case("notifications", "parent", "notifications(PAGE) { CONN }", ("notifications",)),
    Case("myStaffBindings", "teacher", "myStaffBindings(PAGE) { CONN }", ("myStaffBindings",)),
    Case("staffBindings", "operator", "staffBindings(PAGE) { CONN }", ("staffBindings",)),
    Case("auditLog", "admin", "auditLog(PAGE) { CONN }", ("auditLog",)),
    Case("myApplications", "parent", "myApplications(PAGE) { CONN }", ("myApplications",)),
    Case("applications", "admin", "applications(PAGE) { CONN }", ("applications",)),
    Case("announcements", "parent", "announcements(PAGE) { CONN }", ("announcements",)),
    Case("schools", "operator", "schools(PAGE) { CONN }", ("schools",)),
    Case("settlements", "parent", 'settlements(regionCode: "77", PAGE) { CONN }', ("settlements",)),
    Case("myFeedbackTickets", "parent", "myFeedbackTickets(PAGE) { CONN }", ("myFeedbackTickets",)),
    Case("feedbackTickets", "operator", "feedbackTickets(PAGE) { CONN }", ("feedbackTickets",)),
    Case("threads", "parent", "threads(PAGE) { CONN }", ("threads",)),
    Case(
        "Thread.messages",
        "parent",
        "threads(first: 1) { nodes { messages(PAGE) { CONN } } }",
        ("threads", "nodes", 0, "messages"),
    ),
    Case("childTransfers", "admin", "childTransfers(PAGE) { CONN }", ("childTransfers",)),
    Case("myReports", "parent", "myReports(PAGE) { CONN }", ("myReports",)),
    Case("myDataRequests", "parent", "myDataRequests(PAGE) { CONN }", ("myDataRequests",)),
    Case("erasureRequests", "operator", "erasureRequests(PAGE) { CONN }", ("erasureRequests",)),
    Case(
        "sensitiveDataAccessLog",
        "parent",
        "sensitiveDataAccessLog(childId: $child, PAGE) { CONN }",
        ("sensitiveDataAccessLog",),
        extra=", $child: ID!",
    ),
    Case(
        "Webhook.deliveries",
        "admin",
        "node(id: $school) { ... on School { webhooks { deliveries(PAGE) { CONN } } } }",
        ("node", "webhooks", 0, "deliveries"),
        extra=", $school: ID!",
    ),
]


def _at(data: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
    for step in path:
        data = data[step]
    assert isinstance(data, dict)
    return data


async def _walk(gql: GraphQLClient, case: Case, token: str, extra: dict[str, Any], *, backwards: bool) -> list[str]:
    """Every item's id, page by page of 1, in list order."""
    seen: list[str] = []
    cursor: str | None = None
    for page_no in range(200):
        args = {"last": 1, "before": cursor} if backwards else {"first": 1, "after": cursor}
        conn = _at(await gql.data(case.text(), {**args, **extra}, token=token), case.path)
        ids = [e["node"]["id"] for e in conn["edges"]]
        info = conn["pageInfo"]
        if backwards:
            seen[:0] = ids
            assert info["hasNextPage"] is (page_no > 0)
            more, cursor = info["hasPreviousPage"], info["startCursor"]
        else:
            seen += ids
            assert info["hasPreviousPage"] is (page_no > 0)
            more, cursor = info["hasNextPage"], info["endCursor"]
        if ids:
            assert info["startCursor"] == conn["edges"][0]["cursor"]
            assert info["endCursor"] == conn["edges"][-1]["cursor"]
        if not more:
            assert len(seen) == conn["totalCount"]
            return seen
    raise AssertionError("the list did not end")


@dataclass(frozen=True)
class Demo:
    school_id: int


ROWS = 5  # of each list the demo has none of


@pytest.fixture
async def demo(app_services: AppServices, session: AsyncSession) -> Demo:
    """The demo school, and rows of its people in the lists the demo leaves empty."""
    await seed_demo(app_services.session_factory)
    users = {
        u.email.split("@")[0]: u for u in await session.scalars(select(User).where(User.email.like("%@demo.ediary.ru")))
    }
    school = await session.scalar(select(School).where(School.short_name == "ГБОУ Школа № 1535"))
    assert school is not None
    parent, admin = users["parent"], users["admin"]
    child = await session.scalar(select(Child).where(Child.first_name == "Артём", Child.last_name == "Соколов"))
    assert child is not None
    webhook = await make_webhook(session, school_id=school.id)
    for _ in range(ROWS):
        await make_school(session)
        await make_staff_binding(session, user_id=users["teacher"].id)
        await make_audit_entry(session, actor_user_id=admin.id, school_id=school.id)
        await make_feedback_ticket(session, author_id=parent.id)
        await make_child_transfer(session, from_school_id=school.id)
        await make_report(
            session, school_id=school.id, requested_by_id=parent.id, scope=ReportScope.CHILD, scope_id=child.id
        )
        await make_data_request(session, requester_id=parent.id)
        await make_data_request(session, kind=DataRequestKind.ERASURE)
        await make_sensitive_read(session, reader_id=parent.id, child_id=child.id)
        await make_webhook_delivery(session, webhook_id=webhook.id)
        # older than the demo's thread, which stays first (its messages are Thread.messages' case)
        old = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        thread = await make_thread(session, school_id=school.id, created_by_id=parent.id, last_message_at=old)
        await make_thread_participant(session, thread_id=thread.id, user_id=parent.id)
    await session.commit()
    return Demo(school_id=school.id)


async def _extra(gql: GraphQLClient, case: Case, token: str, demo: Demo) -> dict[str, Any]:
    if "$child" in case.extra:
        children = await gql.data("{ myChildren { id } }", token=token)
        return {"child": children["myChildren"][0]["id"]}
    if "$school" in case.extra:
        return {"school": to_base64("School", demo.school_id)}
    return {}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_forwards_and_backwards_give_the_same_items(gql: GraphQLClient, demo: Demo, case: Case) -> None:
    token = await gql.sign_in(_login(case.login), DEMO_PASSWORD)
    extra = await _extra(gql, case, token, demo)
    forwards = await _walk(gql, case, token, extra, backwards=False)
    backwards = await _walk(gql, case, token, extra, backwards=True)
    assert len(forwards) >= 2, "the list must have more than one page to show anything"
    assert forwards == backwards
    assert len(set(forwards)) == len(forwards)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_statements_do_not_grow_with_the_page(
    gql: GraphQLClient, demo: Demo, case: Case, sql_counter: StatementCounter
) -> None:
    token = await gql.sign_in(_login(case.login), DEMO_PASSWORD)
    extra = await _extra(gql, case, token, demo)
    counts = []
    for args in ({"last": 1}, {"last": 5}, {"first": 1}, {"first": 5}):
        with sql_counter:
            await gql.data(case.text(), {**args, **extra}, token=token)
        counts.append(sql_counter.count)
    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ({"first": 1, "last": 1}, "last"),
        ({"first": -1}, "first"),
        ({"last": -1}, "last"),
        ({"last": 101}, "last"),
        ({"first": 101}, "first"),
        ({"before": "not a cursor", "last": 1}, "before"),
    ],
)
async def test_bad_paging_arguments_are_refused_by_name(
    gql: GraphQLClient, demo: Demo, args: dict[str, Any], argument: str
) -> None:
    token = await gql.sign_in(_login("parent"), DEMO_PASSWORD)
    for case in (CASES[0], CASES[12]):  # a root field and a nested one (Thread.messages)
        body = await gql.post(case.text(), args, token=token)
        assert [e["extensions"] for e in body["errors"]] == [{"code": "INVALID", "field": [argument]}], body


async def test_pages_are_capped_for_last_as_for_first(gql: GraphQLClient, demo: Demo) -> None:
    token = await gql.sign_in(_login("operator"), DEMO_PASSWORD)
    case = next(c for c in CASES if c.name == "schools")
    for args in ({"first": 100}, {"last": 100}):
        conn = _at(await gql.data(case.text(), args, token=token), case.path)
        assert len(conn["edges"]) == conn["totalCount"]


async def test_strangers_see_none_of_a_list(gql: GraphQLClient, demo: Demo) -> None:
    """Paging backwards reads through the same rules: a student sees none of the parent's inbox."""
    token = await gql.sign_in(_login("student"), DEMO_PASSWORD)
    parent = await gql.sign_in(_login("parent"), DEMO_PASSWORD)
    case = CASES[0]
    mine = await _walk(gql, case, parent, {}, backwards=True)
    theirs = _at(await gql.data(case.text(), {"last": 100}, token=token), case.path)
    assert not {e["node"]["id"] for e in theirs["edges"]} & set(mine)
    body = await gql.post(case.text(), {"last": 2})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
