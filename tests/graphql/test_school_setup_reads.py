"""Who sees a school's structure, a class's roster and a child's documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.enums import StaffRole
from tests.factories import (
    make_child,
    make_control_type,
    make_enrolled_child,
    make_guardianship,
    make_holiday,
    make_period,
    make_school_class,
    make_staff_membership,
    make_subject,
    make_teaching_assignment,
    make_user,
)
from tests.school_setup_support import PASSWORD, World, build_world, gid, token
from tests.support import GraphQLClient, StatementCounter

SCHOOL = """query($id: ID!) { node(id: $id) { ... on School {
  academicYears { name } subjects { name } controlTypes { code weight } classes { name }
} } }"""
CLASS = """query($id: ID!) { node(id: $id) { ... on SchoolClass {
  name children { fullName } teachers { subject { name } }
} } }"""
CHILD = """query($id: ID!) { node(id: $id) { ... on Child {
  fullName snils birthCertificate { series number issuedOn } currentClass { name }
} } }"""


async def _with_child(session: AsyncSession) -> tuple[World, int, int, str]:
    """A 5А of the school with one child; a student login for the child; its parent."""
    w = await build_world(session)
    klass = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="А")
    await make_subject(session, school=w.school, name="Математика")
    await make_control_type(session, school=w.school, code="TEST", name="Контрольная")
    student = await make_user(session, email="student@example.ru", password=PASSWORD)
    child = await make_enrolled_child(session, class_id=klass.id, user_id=student.id)
    await make_guardianship(session, parent=w.parent, child=child)
    await session.commit()
    return w, klass.id, child.id, "student@example.ru"


async def test_school_structure_is_seen_by_its_people_only(gql: GraphQLClient, session: AsyncSession) -> None:
    w, _, _, student_login = await _with_child(session)
    stranger = await make_user(session, email="stranger@example.ru", password=PASSWORD)
    await session.commit()
    expected = {
        "academicYears": [{"name": "2026/2027"}],
        "subjects": [{"name": "Математика"}],
        "controlTypes": [{"code": "TEST", "weight": 1.0}],
        "classes": [{"name": "5А"}],
    }
    for user in (w.admin, w.teacher, w.parent, w.operator):
        data = await gql.data(SCHOOL, {"id": w.school_gid}, token=await token(gql, user))
        assert data["node"] == expected, user.email
    data = await gql.data(SCHOOL, {"id": w.school_gid}, token=await gql.sign_in(student_login, PASSWORD))
    assert data["node"] == expected
    # others: another school's admin, a stranger, anonymous
    for tok in (await token(gql, w.other_admin), await token(gql, stranger), None):
        data = await gql.data(SCHOOL, {"id": w.school_gid}, token=tok)
        assert data["node"] == dict.fromkeys(expected), tok


async def test_class_roster_is_for_staff_only(gql: GraphQLClient, session: AsyncSession) -> None:
    w, class_id, _, _ = await _with_child(session)
    for user in (w.admin, w.teacher):
        data = await gql.data(CLASS, {"id": gid("SchoolClass", class_id)}, token=await token(gql, user))
        assert len(data["node"]["children"]) == 1
    # the parent sees the class, not who else is in it
    data = await gql.data(CLASS, {"id": gid("SchoolClass", class_id)}, token=await token(gql, w.parent))
    assert data["node"]["name"] == "5А"
    assert data["node"]["children"] is None
    # another school's staff does not see the class at all
    data = await gql.data(CLASS, {"id": gid("SchoolClass", class_id)}, token=await token(gql, w.other_admin))
    assert data["node"] is None


async def test_roster_is_sorted_by_name_and_costs_the_same_for_more_children(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    w = await build_world(session)
    klass = await make_school_class(session, academic_year_id=w.year.id)
    for last in ("Яковлев", "Абрамов"):
        await make_enrolled_child(session, class_id=klass.id, last_name=last)
    await session.commit()
    admin = await token(gql, w.admin)
    query = """query($id: ID!) { node(id: $id) { ... on SchoolClass {
      children { lastName snils currentClass { name } } } } }"""
    with sql_counter:
        data = await gql.data(query, {"id": gid("SchoolClass", klass.id)}, token=admin)
    few = sql_counter.count
    assert [c["lastName"] for c in data["node"]["children"]] == ["Абрамов", "Яковлев"]
    for _ in range(8):
        await make_enrolled_child(session, class_id=klass.id)
    await session.commit()
    with sql_counter:
        data = await gql.data(query, {"id": gid("SchoolClass", klass.id)}, token=admin)
    assert len(data["node"]["children"]) == 10
    assert sql_counter.count == few


async def test_child_documents_are_for_the_child_guardians_and_school_admins(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    w, _, child_id, student_login = await _with_child(session)
    child_gid = gid("Child", child_id)
    seers = [await token(gql, w.admin), await token(gql, w.parent), await gql.sign_in(student_login, PASSWORD)]
    for tok in seers:
        node = (await gql.data(CHILD, {"id": child_gid}, token=tok))["node"]
        assert node["snils"] is not None
        assert node["birthCertificate"]["number"] is not None
        assert node["currentClass"] == {"name": "5А"}
    # a teacher of the school and an operator see the child, not the documents
    for user in (w.teacher, w.operator):
        node = (await gql.data(CHILD, {"id": child_gid}, token=await token(gql, user)))["node"]
        assert node["fullName"]
        assert node["snils"] is None
        assert node["birthCertificate"] is None


async def test_child_is_hidden_from_other_schools_and_strangers(gql: GraphQLClient, session: AsyncSession) -> None:
    w, _, child_id, _ = await _with_child(session)
    other_parent = await make_user(session, email="other-parent@example.ru", password=PASSWORD)
    await make_guardianship(session, parent=other_parent, child=await make_child(session))
    await session.commit()
    for tok in (
        await token(gql, w.other_admin),
        await token(gql, w.other_teacher),
        await token(gql, other_parent),
        None,
    ):
        data = await gql.data(CHILD, {"id": gid("Child", child_id)}, token=tok)
        assert data["node"] is None


async def test_integrator_sees_structure_but_not_the_roster(gql: GraphQLClient, session: AsyncSession) -> None:
    w, class_id, child_id, _ = await _with_child(session)
    await make_staff_membership(session, user=w.integrator, school=w.other_school, role=StaffRole.INTEGRATOR)
    await session.commit()
    tok = await token(gql, w.integrator)
    data = await gql.data(CLASS, {"id": gid("SchoolClass", class_id)}, token=tok)
    assert data["node"]["name"] == "5А"
    assert data["node"]["children"] is None
    assert (await gql.data(CHILD, {"id": gid("Child", child_id)}, token=tok))["node"] is None


async def test_every_setup_node_is_hidden_from_other_schools(gql: GraphQLClient, session: AsyncSession) -> None:
    # given one of each setup row of the school
    w, class_id, child_id, _ = await _with_child(session)
    period = await make_period(session, academic_year_id=w.year.id, number=1)
    holiday = await make_holiday(session, school=w.school, starts_on=w.year.starts_on, ends_on=w.year.starts_on)
    subject = await make_subject(session, school=w.school, name="Физика")
    control = await make_control_type(session, school=w.school, code="ORAL", name="Устный ответ")
    assignment = await make_teaching_assignment(session, teacher=w.teacher, class_id=class_id, subject=subject)
    enrollment_id = (await session.scalars(select(Enrollment.id).where(Enrollment.child_id == child_id))).one()
    await session.commit()
    ids = [
        gid("AcademicYear", w.year.id),
        gid("Period", period.id),
        gid("Holiday", holiday.id),
        gid("Subject", subject.id),
        gid("ControlType", control.id),
        gid("SchoolClass", class_id),
        gid("TeachingAssignment", assignment.id),
        gid("Enrollment", enrollment_id),
        gid("Child", child_id),
    ]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    # then the school's admin sees them all, another school's admin and strangers none
    mine = await gql.data(query, {"ids": ids}, token=await token(gql, w.admin))
    assert [n["id"] if n else None for n in mine["nodes"]] == ids
    for tok in (await token(gql, w.other_admin), None):
        theirs = await gql.data(query, {"ids": ids}, token=tok)
        assert theirs["nodes"] == [None] * len(ids)
