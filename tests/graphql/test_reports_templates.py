"""Report templates over real HTTP: a school starts with the built-in default of each kind,
written when it is registered (School.reportTemplates only reads); its admins and
teachers create and change templates, checked column by column with field paths; a new
default is what a request without a template takes; families, operators and other
schools may not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportKind
from ediary_gql.db.models.reports import ReportTemplate
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.services.reports.template_spec import DEFAULT_NAMES, DEFAULTS
from ediary_gql.services.reports.templates import add_default_report_templates
from tests.diary_writes_support import World, codes, error_codes, gid, make_world
from tests.graphql.test_review_school import operator_token, registered, result, review
from tests.support import GraphQLClient

TEMPLATES = """
query($id: ID!) { node(id: $id) { ... on School { reportTemplates {
  id name kind columns groupBy includeComments includeRemarks isDefault isBuiltIn } } } }"""
CREATE = """
mutation($i: CreateReportTemplateInput!) { createReportTemplate(input: $i) {
  reportTemplate { id name kind columns groupBy includeComments includeRemarks isDefault isBuiltIn }
  userErrors { field code message } } }"""
UPDATE = """
mutation($i: UpdateReportTemplateInput!) { updateReportTemplate(input: $i) {
  reportTemplate { id name columns groupBy includeComments isDefault } userErrors { field code message } } }"""
REQUEST = """
mutation($i: RequestReportInput!) { requestReport(input: $i) {
  report { id template { id name } } userErrors { field code } } }"""


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await make_world(session)
    # as registerSchool writes them (the other school of the world is left without)
    await add_default_report_templates(session, school_id=world.school.id)
    await session.commit()
    return world


def _create(world: World, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "schoolId": gid("School", world.school.id),
        "name": "Подробный",
        "kind": "PROGRESS",
        "columns": ["SUBJECT", "DATE", "GRADE", "CONTROL_TYPE", "TOPIC"],
        "groupBy": "DATE",
        "includeComments": False,
        "includeRemarks": True,
    }
    fields.update(overrides)
    return {"i": fields}


async def _templates(
    gql: GraphQLClient, world: World, token: str, school_gid: str | None = None
) -> list[dict[str, Any]] | None:
    node = (await gql.data(TEMPLATES, {"id": school_gid or gid("School", world.school.id)}, token=token))["node"]
    return None if node is None else node["reportTemplates"]


async def _count(services: AppServices) -> int:
    async with services.session_factory() as session:
        return int(await session.scalar(select(func.count(ReportTemplate.id))) or 0)


def _built_in(found: list[dict[str, Any]]) -> None:
    assert [(t["kind"], t["name"], t["isDefault"], t["isBuiltIn"]) for t in found] == [
        (kind.value, DEFAULT_NAMES[kind], True, True) for kind in sorted(DEFAULTS)
    ]
    for t in found:
        spec = DEFAULTS[ReportKind(t["kind"])]
        assert t["columns"] == [c.value for c in spec.columns]
        assert t["groupBy"] == spec.group_by.value


async def test_a_registered_school_starts_with_the_built_in_defaults(
    gql: GraphQLClient, app_services: AppServices, session: AsyncSession, world: World
) -> None:
    before = await _count(app_services)
    _, token, school_gid = await registered(session, gql)
    # written with the school, in the registration's transaction
    assert await _count(app_services) == before + len(DEFAULTS)
    operator = await operator_token(session, gql)
    assert result(await review(gql, operator, school_gid, "APPROVE"))["userErrors"] == []
    found = await _templates(gql, world, token, school_gid)
    assert found is not None
    _built_in(found)


async def test_reading_the_templates_writes_nothing(
    gql: GraphQLClient, app_services: AppServices, world: World
) -> None:
    before = await _count(app_services)
    found = await _templates(gql, world, await world.token(gql, world.teacher))
    assert found is not None
    _built_in(found)
    # a second reader (a family of the school) sees the same rows
    assert await _templates(gql, world, await world.token(gql, world.parent)) == found
    # a school without them (as made before they were written with the school) reads none,
    # and its read does not write them either
    async with app_services.session_factory() as session:
        foreign_school = await session.scalar(
            select(StaffMembership.school_id).where(StaffMembership.user_id == world.foreign_admin.id)
        )
    assert foreign_school is not None
    foreign_admin = await world.token(gql, world.foreign_admin)
    assert await _templates(gql, world, foreign_admin, gid("School", foreign_school)) == []
    assert await _count(app_services) == before
    # not of the school: null
    for user in (world.operator, world.foreign_admin):
        assert await _templates(gql, world, await world.token(gql, user)) in (None, [])
        node = (await gql.data(TEMPLATES, {"id": found[0]["id"]}, token=await world.token(gql, user)))["node"]
        assert node is None


async def test_a_teacher_creates_a_template_and_an_admin_makes_one_the_default(
    gql: GraphQLClient, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    created = (await gql.data(CREATE, _create(world), token=teacher))["createReportTemplate"]
    assert created["userErrors"] == []
    assert created["reportTemplate"] == {
        "id": created["reportTemplate"]["id"],
        "name": "Подробный",
        "kind": "PROGRESS",
        "columns": ["SUBJECT", "DATE", "GRADE", "CONTROL_TYPE", "TOPIC"],
        "groupBy": "DATE",
        "includeComments": False,
        "includeRemarks": True,
        "isDefault": False,
        "isBuiltIn": False,
    }
    template_id = created["reportTemplate"]["id"]
    admin = await world.token(gql, world.admin)
    built_in = DEFAULT_NAMES[ReportKind.PROGRESS]
    assert [t["name"] for t in await _templates(gql, world, admin) or []] == [
        DEFAULT_NAMES[ReportKind.ATTENDANCE],
        built_in,
        "Подробный",
    ]

    changed = (
        await gql.data(
            UPDATE,
            {"i": {"templateId": template_id, "isDefault": True, "columns": ["DATE", "GRADE"], "name": " Краткий "}},
            token=admin,
        )
    )["updateReportTemplate"]
    assert changed["userErrors"] == []
    assert changed["reportTemplate"]["isDefault"] is True
    assert changed["reportTemplate"]["name"] == "Краткий"
    assert changed["reportTemplate"]["columns"] == ["DATE", "GRADE"]
    progress = [t for t in await _templates(gql, world, admin) or [] if t["kind"] == "PROGRESS"]
    assert [(t["name"], t["isDefault"]) for t in progress] == [("Краткий", True), (built_in, False)]

    # a request without a template takes the school's default
    asked = await gql.data(
        REQUEST,
        {
            "i": {
                "kind": "PROGRESS",
                "scope": "CLASS",
                "targetId": gid("SchoolClass", world.school_class.id),
                "periodId": gid("Period", world.period.id),
                "format": "HTML",
            }
        },
        token=teacher,
    )
    assert asked["requestReport"]["report"]["template"] == {"id": template_id, "name": "Краткий"}


async def test_every_problem_is_answered_at_its_path_and_nothing_is_written(
    gql: GraphQLClient, app_services: AppServices, world: World
) -> None:
    token = await world.token(gql, world.admin)
    before = await _count(app_services)
    bad = _create(world, name="  ", columns=["GRADE", "STATUS", "GRADE"])
    payload = (await gql.data(CREATE, bad, token=token))["createReportTemplate"]
    assert payload["reportTemplate"] is None
    assert codes(payload) == [
        ("REQUIRED", ["name"]),
        ("INVALID", ["columns", "1"]),
        ("DUPLICATE", ["columns", "2"]),
        ("REQUIRED", ["columns"]),
    ]
    assert await _count(app_services) == before

    first = (await gql.data(CREATE, _create(world), token=token))["createReportTemplate"]
    again = (await gql.data(CREATE, _create(world), token=token))["createReportTemplate"]
    assert codes(again) == [("DUPLICATE", ["name"])]
    attendance = _create(world, kind="ATTENDANCE", columns=["DATE", "GRADE"])
    assert codes((await gql.data(CREATE, attendance, token=token))["createReportTemplate"]) == [
        ("INVALID", ["columns", "1"]),
        ("REQUIRED", ["columns"]),
    ]
    update = {"i": {"templateId": first["reportTemplate"]["id"], "columns": ["DATE"]}}
    assert codes((await gql.data(UPDATE, update, token=token))["updateReportTemplate"]) == [("REQUIRED", ["columns"])]
    wrong_id = {"i": {"templateId": gid("Lesson", 1), "name": "x"}}
    assert codes((await gql.data(UPDATE, wrong_id, token=token))["updateReportTemplate"]) == [
        ("INVALID", ["templateId"])
    ]
    assert await _count(app_services) == before + 1


async def test_families_operators_and_other_schools_may_not(gql: GraphQLClient, world: World) -> None:
    created = await gql.data(CREATE, _create(world), token=await world.token(gql, world.admin))
    template_id = created["createReportTemplate"]["reportTemplate"]["id"]
    for user in (world.parent, world.student, world.operator, world.foreign_admin, world.foreign_teacher):
        token = await world.token(gql, user)
        assert error_codes(await gql.post(CREATE, _create(world, name="Чужой"), token=token)) == ["FORBIDDEN"]
        # a template not of their school (or not theirs to change) is as one that does not exist
        body = await gql.post(UPDATE, {"i": {"templateId": template_id, "name": "Чужой"}}, token=token)
        assert codes(body["data"]["updateReportTemplate"]) == [("NOT_FOUND", ["templateId"])]
