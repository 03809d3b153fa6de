"""addReportRemark and Child.reportRemarks over real HTTP: a teacher of the child's class,
its homeroom teacher or a school admin writes a remark on a child's period; those who read
the child's diary read it (and find it in the child's report); a parent, a teacher of
another class or another school may not write one, and a stranger reads none."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.passwords import hash_password
from ediary_gql.context import AppServices
from ediary_gql.db.models.reports import ReportRemark
from ediary_gql.db.models.users import User
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.diary_writes_support import PASSWORD, World, codes, error_codes, gid, make_world
from tests.factories import (
    make_academic_year,
    make_enrollment,
    make_period,
    make_school,
    make_school_admin,
    make_school_class,
    make_subject,
    make_teacher,
    make_teaching_assignment,
)
from tests.services.reports.document_support import make_diary
from tests.support import GraphQLClient

ADD = """
mutation($i: AddReportRemarkInput!) { addReportRemark(input: $i) {
  reportRemark { id text childId period { id } author { id } } userErrors { field code message } } }"""
REMARKS = """
query($id: ID!, $p: ID) { node(id: $id) { ... on Child { reportRemarks(periodId: $p) { id text } } } }"""
REQUEST = """
mutation($i: RequestReportInput!) { requestReport(input: $i) { report { id } userErrors { field code } } }"""


@pytest.fixture
async def world(session: AsyncSession) -> World:
    world = await make_world(session)
    world.school_class.homeroom_teacher_id = world.other_teacher.id
    session.add(world.school_class)
    await session.commit()
    return world


def _add(world: World, text: str = "Старается, но отвлекается", **overrides: str) -> dict[str, object]:
    return {
        "i": {
            "childId": gid("Child", world.child.id),
            "periodId": gid("Period", world.period.id),
            "text": text,
            **overrides,
        }
    }


async def _count(services: AppServices) -> int:
    async with services.session_factory() as session:
        return int(await session.scalar(select(func.count(ReportRemark.id))) or 0)


async def test_teachers_of_the_class_and_admins_write_remarks_the_family_reads(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    written = []
    for user, text in ((world.teacher, "Догнать тему"), (world.other_teacher, "Старается"), (world.admin, "Молодец")):
        payload = (await gql.data(ADD, _add(world, f"  {text} "), token=await world.token(gql, user)))[
            "addReportRemark"
        ]
        assert payload["userErrors"] == []
        remark = payload["reportRemark"]
        assert (remark["text"], remark["childId"], remark["period"]["id"]) == (
            text,
            gid("Child", world.child.id),
            gid("Period", world.period.id),
        )
        assert remark["author"] == {"id": gid("User", user.id)}
        written.append(remark["id"])

    child = gid("Child", world.child.id)
    for reader in (world.parent, world.student, world.teacher, world.admin):
        node = (await gql.data(REMARKS, {"id": child}, token=await world.token(gql, reader)))["node"]
        assert [r["id"] for r in node["reportRemarks"]] == written
    # by period: none on another one
    other_period = await make_period_of(app_services, world)
    parent = await world.token(gql, world.parent)
    node = (await gql.data(REMARKS, {"id": child, "p": other_period}, token=parent))["node"]
    assert node["reportRemarks"] == []

    # and they are in the child's report
    asked = await gql.data(
        REQUEST,
        {
            "i": {
                "kind": "PROGRESS",
                "scope": "CHILD",
                "targetId": child,
                "periodId": gid("Period", world.period.id),
                "format": "CSV",
            }
        },
        token=parent,
    )
    report_id = asked["requestReport"]["report"]["id"]
    assert await ReportWorker.from_settings(settings, app_services.session_factory).drain() == 1
    response = await gql.http.get(f"/reports/{report_id}/file", headers={"Authorization": f"Bearer {parent}"})
    cells = {c for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";") for c in row}
    assert {"Догнать тему", "Старается", "Молодец"} <= cells


async def make_period_of(services: AppServices, world: World) -> str:
    async with services.session_factory() as session:
        period = await make_period(session, academic_year_id=world.year.id, number=2)
        await session.commit()
        return gid("Period", period.id)


async def test_those_who_do_not_teach_the_child_may_not_write_and_strangers_read_nothing(
    gql: GraphQLClient, app_services: AppServices, session: AsyncSession, world: World
) -> None:
    world.school_class.homeroom_teacher_id = None
    session.add(world.school_class)
    await session.commit()
    for user in (
        world.parent,
        world.student,
        world.other_teacher,
        world.foreign_teacher,
        world.foreign_admin,
        world.operator,
    ):
        body = await gql.post(ADD, _add(world), token=await world.token(gql, user))
        assert error_codes(body) == ["FORBIDDEN"], user
    assert await _count(app_services) == 0

    await gql.data(ADD, _add(world), token=await world.token(gql, world.teacher))
    child = gid("Child", world.child.id)
    for stranger in (world.other_parent, world.other_teacher, world.foreign_admin, world.operator):
        node = (await gql.data(REMARKS, {"id": child}, token=await world.token(gql, stranger)))["node"]
        assert node is None or node["reportRemarks"] is None, stranger


async def test_bad_input_is_answered_at_its_path(gql: GraphQLClient, app_services: AppServices, world: World) -> None:
    token = await world.token(gql, world.teacher)
    assert codes((await gql.data(ADD, _add(world, "   "), token=token))["addReportRemark"]) == [("REQUIRED", ["text"])]
    assert codes((await gql.data(ADD, _add(world, "x" * 4001), token=token))["addReportRemark"]) == [
        ("TOO_LONG", ["text"])
    ]
    wrong = _add(world, periodId=gid("Lesson", 1))
    assert codes((await gql.data(ADD, wrong, token=token))["addReportRemark"]) == [("INVALID", ["periodId"])]
    missing = _add(world, childId=gid("Child", 10**9))
    assert codes((await gql.data(ADD, missing, token=token))["addReportRemark"]) == [("NOT_FOUND", ["childId"])]
    assert await _count(app_services) == 0


async def test_a_remark_on_a_subject_is_seen_as_that_subjects_grades_are(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    diary = await make_diary(session)
    w = diary.world
    general, on_russian = (gid("ReportRemark", r.id) for r in diary.remarks[:2])
    child = gid("Child", w.child.id)
    for reader, expected in (
        (w.parent, [general, on_russian]),
        (w.admin, [general, on_russian]),
        (w.teacher, [general]),
    ):
        node = (await gql.data(REMARKS, {"id": child}, token=await w.token(gql, reader)))["node"]
        assert [r["id"] for r in node["reportRemarks"]] == expected
    # node(id) asks the same of the child's diary: a stranger gets null
    for reader in (w.other_parent, w.foreign_admin, w.operator):
        found = await gql.data(
            "query($id: ID!) { node(id: $id) { id } }", {"id": general}, token=await w.token(gql, reader)
        )
        assert found["node"] is None


NODE = "query($id: ID!) { node(id: $id) { ... on ReportRemark { id text } } }"


async def test_node_shows_a_remark_to_those_the_childs_remarks_show_it_to(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    diary = await make_diary(session)
    w = diary.world
    diary.russian_teacher.password_hash = hash_password(PASSWORD)
    # the child was in a class of another school earlier in the year: its staff read the diary
    former = await make_school(session)
    year = await make_academic_year(session, school_id=former.id)
    former_class = await make_school_class(session, school_id=former.id, academic_year_id=year.id)
    await make_enrollment(
        session, child_id=w.child.id, class_id=former_class.id, ends_on=year.starts_on + dt.timedelta(days=20)
    )
    former_admin = await make_school_admin(session, password=PASSWORD, school_id=former.id)
    former_teacher = await make_teacher(session, password=PASSWORD, school_id=former.id)
    former_subject = await make_subject(session, school_id=former.id)
    await make_teaching_assignment(
        session, teacher_id=former_teacher.id, class_id=former_class.id, subject_id=former_subject.id
    )
    session.add(diary.russian_teacher)
    await session.commit()
    general, on_russian = (gid("ReportRemark", r.id) for r in diary.remarks[:2])
    child = gid("Child", w.child.id)

    async def seen(reader: User) -> tuple[list[str] | None, list[str]]:
        token = await w.token(gql, reader)
        listed = (await gql.data(REMARKS, {"id": child}, token=token))["node"]
        by_node = [r for r in (general, on_russian) if (await gql.data(NODE, {"id": r}, token=token))["node"]]
        return (
            None if listed is None or listed["reportRemarks"] is None else [r["id"] for r in listed["reportRemarks"]]
        ), by_node

    # the maths teacher of the class: not the Russian teacher's remark on Russian, by either way
    assert await seen(w.teacher) == ([general], [general])
    for reader in (diary.russian_teacher, w.admin, w.parent):
        assert await seen(reader) == ([general, on_russian], [general, on_russian]), reader
    # staff of the child's former school read the diary, but not the remarks of the new school's periods
    for reader in (former_admin, former_teacher):
        listed, by_node = await seen(reader)
        assert (listed or [], by_node) == ([], []), reader
    # and a stranger reads none
    for reader in (w.foreign_admin, w.other_parent):
        assert (await seen(reader))[1] == [], reader
