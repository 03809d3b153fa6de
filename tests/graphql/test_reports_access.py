"""Who may ask for, see and download a report, over real HTTP: a parent another family's
child, a teacher a class they do not teach, an operator anything, and a foreign school's
admin are refused (FORBIDDEN, nothing queued); someone else's report is not theirs to read
(node, myReports) or download (404); bad input answers userErrors with field paths."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.diary_writes_support import World, codes, error_codes, gid, make_world
from tests.services.reports.queue_support import reports
from tests.support import GraphQLClient, StatementCounter

REQUEST = """
mutation($i: RequestReportInput!) {
  requestReport(input: $i) { report { id status downloadUrl } userErrors { field code message } }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Report { id status } } }"


def _input(world: World, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": "ATTENDANCE",
        "scope": "CHILD",
        "targetId": gid("Child", world.child.id),
        "periodId": gid("Period", world.period.id),
        "format": "CSV",
    }
    fields.update(overrides)
    return {"i": fields}


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


@pytest.mark.parametrize(
    ("who", "scope", "target"),
    [
        ("other_parent", "CHILD", "child"),  # another family's child
        ("other_teacher", "CLASS", "school_class"),  # a teacher of the school, not of this class
        ("teacher", "SCHOOL", "school"),  # a teacher asks for the whole school
        ("foreign_admin", "CHILD", "child"),  # another school's admin
        ("operator", "CHILD", "child"),
        ("operator", "SCHOOL", "school"),
    ],
)
async def test_those_who_may_not_ask_are_refused(
    gql: GraphQLClient, app_services: AppServices, world: World, who: str, scope: str, target: str
) -> None:
    types = {"child": "Child", "school_class": "SchoolClass", "school": "School"}
    target_id = gid(types[target], getattr(world, target).id)
    body = await gql.post(
        REQUEST, _input(world, scope=scope, targetId=target_id), token=await world.token(gql, getattr(world, who))
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await reports(app_services) == []


@pytest.mark.parametrize(
    ("who", "scope", "target"),
    [
        ("parent", "CHILD", "child"),
        ("student", "CHILD", "child"),
        ("teacher", "CLASS", "school_class"),
        ("admin", "SCHOOL", "school"),
    ],
)
async def test_those_who_may_ask_are_queued(
    gql: GraphQLClient, world: World, who: str, scope: str, target: str
) -> None:
    types = {"child": "Child", "school_class": "SchoolClass", "school": "School"}
    target_id = gid(types[target], getattr(world, target).id)
    data = await gql.data(
        REQUEST, _input(world, scope=scope, targetId=target_id), token=await world.token(gql, getattr(world, who))
    )
    assert data["requestReport"]["userErrors"] == []
    assert data["requestReport"]["report"]["status"] == "QUEUED"
    assert data["requestReport"]["report"]["downloadUrl"] is None  # not before it is READY


async def test_bad_input_names_the_fields_and_queues_nothing(
    gql: GraphQLClient, app_services: AppServices, world: World
) -> None:
    token = await world.token(gql, world.parent)
    # a class's ID where the scope wants a child
    data = await gql.data(REQUEST, _input(world, targetId=gid("SchoolClass", world.school_class.id)), token=token)
    assert codes(data["requestReport"]) == [("INVALID", ["targetId"])]
    # neither a period nor dates
    data = await gql.data(REQUEST, _input(world, periodId=None), token=token)
    assert codes(data["requestReport"]) == [("REQUIRED", ["from"]), ("REQUIRED", ["to"])]
    # dates the wrong way round
    data = await gql.data(
        REQUEST, _input(world, periodId=None, **{"from": "2026-10-10", "to": "2026-10-01"}), token=token
    )
    assert codes(data["requestReport"]) == [("INVALID", ["to"])]
    # a malformed template ID
    data = await gql.data(REQUEST, _input(world, templateId=gid("Lesson", 1)), token=token)
    assert codes(data["requestReport"]) == [("INVALID", ["templateId"])]
    assert await reports(app_services) == []


async def test_someone_elses_report_is_not_theirs_to_read_or_download(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    token = await world.token(gql, world.parent)
    asked = await gql.data(REQUEST, _input(world), token=token)
    report_id = asked["requestReport"]["report"]["id"]
    assert await ReportWorker.from_settings(settings, app_services.session_factory).drain() == 1
    mine = await gql.data(NODE, {"id": report_id}, token=token)
    assert mine["node"] == {"id": report_id, "status": "READY"}
    url = f"/reports/{report_id}/file"
    for filter_, count in (({"status": "READY"}, 1), ({"status": "QUEUED"}, 0), ({"kind": "PROGRESS"}, 0)):
        listed = await gql.data(
            "query($f: ReportFilter) { myReports(filter: $f) { totalCount } }", {"f": filter_}, token=token
        )
        assert listed["myReports"]["totalCount"] == count, filter_
    assert (await gql.http.get(url, headers={"Authorization": f"Bearer {token}"})).status_code == 200

    # the child's other guardian-less readers: the school's admin reads the diary, not the report
    for user in (world.admin, world.other_parent, world.operator, world.student):
        other = await world.token(gql, user)
        assert (await gql.data(NODE, {"id": report_id}, token=other))["node"] is None
        listed = await gql.data("{ myReports { totalCount } }", token=other)
        assert listed["myReports"]["totalCount"] == 0
        response = await gql.http.get(url, headers={"Authorization": f"Bearer {other}"})
        assert response.status_code == 404
    # and without a token
    assert (await gql.http.get(url)).status_code == 401
    body = await gql.post("{ myReports { totalCount } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]


MY_REPORTS_DEEP = """
query { myReports(first: 20) { totalCount edges { node {
  id status title fileName targetName targetId downloadUrl period { name } template { id name }
} } } }"""


async def test_my_reports_reads_as_many_statements_for_three_reports_as_for_seven(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World, sql_counter: StatementCounter
) -> None:
    token = await world.token(gql, world.admin)
    one_of_each = [
        ("CHILD", gid("Child", world.child.id)),
        ("CLASS", gid("SchoolClass", world.school_class.id)),
        ("SCHOOL", gid("School", world.school.id)),
    ]
    targets = [*one_of_each, *one_of_each, ("CHILD", gid("Child", world.other_child.id))]
    counts = []
    for batch in (targets[:3], targets[3:]):
        for scope, target in batch:
            data = await gql.data(REQUEST, _input(world, scope=scope, targetId=target), token=token)
            assert data["requestReport"]["userErrors"] == []
        assert await ReportWorker.from_settings(settings, app_services.session_factory).drain() == len(batch)
        with sql_counter:
            found = await gql.data(MY_REPORTS_DEEP, token=token)
        counts.append(sql_counter.count)
    nodes = [e["node"] for e in found["myReports"]["edges"]]
    assert len(nodes) == 7
    assert {n["targetName"] for n in nodes} >= {world.school_class.name, world.school.short_name}
    assert all(n["period"] == {"name": world.period.name} and n["downloadUrl"] for n in nodes)
    assert counts[0] == counts[1], sql_counter.statements
