"""School setup over real HTTP: years, subjects, control types, classes, teachers,
enrolments and moves; each refusal, and who may not do it at all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import Sex
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.notifications import Notification, OutboxMessage
from ediary_gql.db.models.school_setup import TeacherInvitation
from tests.factories import (
    make_child,
    make_enrolled_child,
    make_school_class,
    make_staff_binding,
    make_subject,
    make_teaching_assignment,
    make_user,
)
from tests.factories._base import snils11
from tests.school_setup_support import PASSWORD, World, build_world, gid, token
from tests.support import GraphQLClient

ERR = "userErrors { field code message }"
CREATE_YEAR = f"""mutation($i: CreateAcademicYearInput!) {{
  createAcademicYear(input: $i) {{
    academicYear {{ id name periodKind periods {{ number name startsOn endsOn }} holidays {{ name startsOn endsOn }} }}
    {ERR}
  }}
}}"""
CREATE_SUBJECT = (
    f"mutation($i: CreateSubjectInput!) {{ createSubject(input: $i) {{ subject {{ id name shortName }} {ERR} }} }}"
)
CREATE_CONTROL = f"""mutation($i: CreateControlTypeInput!) {{
  createControlType(input: $i) {{ controlType {{ code name weight }} {ERR} }}
}}"""
CREATE_CLASS = f"""mutation($i: CreateClassInput!) {{
  createClass(input: $i) {{
    schoolClass {{ id name level letter academicYear {{ name }} homeroomTeacher {{ id }} }}
    {ERR}
  }}
}}"""
INVITE = f"""mutation($i: InviteTeacherInput!) {{
  inviteTeacher(input: $i) {{ invitation {{ phone email accountExists }} {ERR} }}
}}"""
ASSIGN = f"""mutation($i: AssignTeacherInput!) {{
  assignTeacher(input: $i) {{ assignment {{ id teacher {{ id }} schoolClass {{ name }} subject {{ name }} }} {ERR} }}
}}"""
UNASSIGN = f"mutation($i: UnassignTeacherInput!) {{ unassignTeacher(input: $i) {{ removedAssignmentId {ERR} }} }}"
ENROLL = f"""mutation($i: EnrollChildInput!) {{
  enrollChild(input: $i) {{
    enrollment {{ id startsOn endsOn schoolClass {{ name }} }}
    child {{ id fullName snils birthCertificate {{ series number }} currentClass {{ name }} }}
    {ERR}
  }}
}}"""
MOVE = f"""mutation($i: MoveChildInput!) {{
  moveChild(input: $i) {{
    ended {{ startsOn endsOn schoolClass {{ name }} }}
    started {{ startsOn endsOn schoolClass {{ name }} }}
    {ERR}
  }}
}}"""


def _quarters() -> list[dict[str, str]]:
    spans = [
        ("2026-09-01", "2026-10-25"),
        ("2026-11-05", "2026-12-28"),
        ("2027-01-09", "2027-03-22"),
        ("2027-04-01", "2027-05-31"),
    ]
    return [{"name": f"{n} четверть", "startsOn": s, "endsOn": e} for n, (s, e) in enumerate(spans, 1)]


def _year_input(w: World, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schoolId": w.school_gid,
        "name": "2027/2028",
        "startsOn": "2026-09-01",
        "endsOn": "2027-05-31",
        "periodKind": "QUARTER",
        "periods": _quarters(),
        "holidays": [{"name": "Осенние каникулы", "startsOn": "2026-10-26", "endsOn": "2026-11-04"}],
    }
    data.update(kw)
    return data


def _child_input(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lastName": "Иванов",
        "firstName": "Пётр",
        "middleName": "Сергеевич",
        "birthDate": "2015-03-14",
        "sex": "MALE",
        "snils": "112-233-445 95",
        "birthCertificate": {"series": "IV-АК", "number": "123456", "issuedOn": "2015-03-30"},
    }
    data.update(kw)
    return data


async def _count(session: AsyncSession, model: type) -> int:
    await session.commit()  # a fresh snapshot of what the server did
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- academic years --------------------------------------------------------------


async def test_admin_creates_a_year_with_quarters_and_holidays(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school admin
    w = await build_world(session)
    admin = await token(gql, w.admin)
    # when they create a year with four quarters (given out of order) and autumn holidays
    quarters = _quarters()
    data = await gql.data(
        CREATE_YEAR, {"i": _year_input(w, periods=[quarters[2], *quarters[:2], quarters[3]])}, token=admin
    )
    # then the year has its periods numbered by date, and its holidays
    payload = data["createAcademicYear"]
    assert payload["userErrors"] == []
    year = payload["academicYear"]
    assert year["periodKind"] == "QUARTER"
    assert [p["name"] for p in year["periods"]] == [f"{n} четверть" for n in range(1, 5)]
    assert [p["number"] for p in year["periods"]] == [1, 2, 3, 4]
    assert year["holidays"] == [{"name": "Осенние каникулы", "startsOn": "2026-10-26", "endsOn": "2026-11-04"}]
    # and the change is in the school's audit trail
    await session.commit()
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "createAcademicYear"))).one()
    assert (entry.actor_user_id, entry.school_id) == (w.admin.id, w.school.id)


async def test_year_problems_are_reported_all_at_once(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school admin
    w = await build_world(session)
    admin = await token(gql, w.admin)
    quarters = _quarters()
    overlapping = {"name": "2 четверть", "startsOn": "2026-10-20", "endsOn": "2026-12-28"}
    outside = {"name": "Летние", "startsOn": "2027-06-01", "endsOn": "2027-08-31"}
    # when a year has a taken name, 3 semesters and overlapping periods, and holidays outside it
    data = await gql.data(
        CREATE_YEAR,
        {
            "i": _year_input(
                w,
                name="2026/2027",
                periodKind="SEMESTER",
                periods=[quarters[0], overlapping, quarters[2]],
                holidays=[outside],
            )
        },
        token=admin,
    )
    # then every problem comes back with its field, and nothing is created
    errors = data["createAcademicYear"]["userErrors"]
    assert {(tuple(e["field"]), e["code"]) for e in errors} == {
        (("name",), "DUPLICATE"),
        (("periods",), "INVALID"),
        (("periods", "1", "startsOn"), "CONFLICT"),
        (("holidays", "0", "startsOn"), "INVALID"),
    }
    assert await _count(session, AcademicYear) == 1
    assert await _count(session, Period) == 0
    assert await _count(session, Holiday) == 0


async def test_period_outside_the_year_and_backwards_dates_are_refused(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    w = await build_world(session)
    admin = await token(gql, w.admin)
    quarters = _quarters()
    quarters[3] = {"name": "4 четверть", "startsOn": "2027-04-01", "endsOn": "2027-06-30"}
    data = await gql.data(CREATE_YEAR, {"i": _year_input(w, endsOn="2026-08-01", periods=quarters)}, token=admin)
    fields = {tuple(e["field"]) for e in data["createAcademicYear"]["userErrors"]}
    assert ("endsOn",) in fields
    data = await gql.data(CREATE_YEAR, {"i": _year_input(w, periods=quarters)}, token=admin)
    assert [(e["field"], e["code"]) for e in data["createAcademicYear"]["userErrors"]] == [
        (["periods", "3", "startsOn"], "INVALID")
    ]


# --- subjects, control types, classes ------------------------------------------------


async def test_subjects_and_control_types(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await build_world(session)
    admin = await token(gql, w.admin)
    data = await gql.data(
        CREATE_SUBJECT, {"i": {"schoolId": w.school_gid, "name": " Математика ", "shortName": "Мат."}}, token=admin
    )
    assert data["createSubject"]["subject"]["name"] == "Математика"
    again = await gql.data(CREATE_SUBJECT, {"i": {"schoolId": w.school_gid, "name": "Математика"}}, token=admin)
    assert [(e["field"], e["code"]) for e in again["createSubject"]["userErrors"]] == [(["name"], "DUPLICATE")]

    data = await gql.data(
        CREATE_CONTROL,
        {"i": {"schoolId": w.school_gid, "code": "test", "name": "Контрольная", "weight": "2.5"}},
        token=admin,
    )
    assert data["createControlType"]["controlType"] == {"code": "TEST", "name": "Контрольная", "weight": 2.5}
    bad = await gql.data(
        CREATE_CONTROL, {"i": {"schoolId": w.school_gid, "code": "TEST", "name": "", "weight": "0"}}, token=admin
    )
    assert {(tuple(e["field"]), e["code"]) for e in bad["createControlType"]["userErrors"]} == {
        (("name",), "REQUIRED"),
        (("weight",), "INVALID"),
        (("code",), "DUPLICATE"),
    }


async def test_create_class(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school admin and a teacher of the school
    w = await build_world(session)
    admin = await token(gql, w.admin)
    i = {
        "schoolId": w.school_gid,
        "academicYearId": w.year_gid,
        "level": 5,
        "letter": "а",
        "homeroomTeacherId": gid("User", w.teacher.id),
    }
    # when the admin creates 5А with that homeroom teacher
    data = await gql.data(CREATE_CLASS, {"i": i}, token=admin)
    # then the class is there
    klass = data["createClass"]["schoolClass"]
    assert klass["name"] == "5А"
    assert klass["academicYear"]["name"] == "2026/2027"
    assert klass["homeroomTeacher"]["id"] == gid("User", w.teacher.id)
    # and a second 5А that year, a bad level and letter, another school's teacher are refused
    dup = await gql.data(CREATE_CLASS, {"i": i}, token=admin)
    assert [(e["field"], e["code"]) for e in dup["createClass"]["userErrors"]] == [(["letter"], "DUPLICATE")]
    bad = {**i, "level": 12, "letter": "AB", "homeroomTeacherId": gid("User", w.other_teacher.id)}
    data = await gql.data(CREATE_CLASS, {"i": bad}, token=admin)
    assert {tuple(e["field"]) for e in data["createClass"]["userErrors"]} == {
        ("level",),
        ("letter",),
        ("homeroomTeacherId",),
    }
    other_year = {**i, "letter": "Б", "academicYearId": gid("AcademicYear", 999_999)}
    data = await gql.data(CREATE_CLASS, {"i": other_year}, token=admin)
    assert [(e["field"], e["code"]) for e in data["createClass"]["userErrors"]] == [(["academicYearId"], "NOT_FOUND")]


# --- teachers ---------------------------------------------------------------------


async def test_invite_an_unknown_contact_sends_a_message(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await build_world(session)
    admin = await token(gql, w.admin)
    data = await gql.data(INVITE, {"i": {"schoolId": w.school_gid, "email": "New.Teacher@Example.ru"}}, token=admin)
    assert data["inviteTeacher"] == {
        "invitation": {"phone": None, "email": "new.teacher@example.ru", "accountExists": False},
        "userErrors": [],
    }
    await session.commit()  # a fresh snapshot of what the server did
    sent = (await session.scalars(select(OutboxMessage).where(OutboxMessage.address == "new.teacher@example.ru"))).all()
    assert len(sent) == 1
    assert "приглашает" in sent[0].body


async def test_invite_an_existing_user_notifies_them_and_marks_their_binding(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a user with an account and a pending TEACHER request they will file
    w = await build_world(session)
    olga = await make_user(session, email="olga@example.ru", password=PASSWORD, phone="+79161112233")
    olga_id = olga.id
    await session.commit()
    admin = await token(gql, w.admin)
    # when the admin invites her by phone
    data = await gql.data(INVITE, {"i": {"schoolId": w.school_gid, "phone": "8 916 111-22-33"}}, token=admin)
    # then she is notified in her inbox
    assert data["inviteTeacher"]["invitation"]["accountExists"] is True
    await session.commit()  # a fresh snapshot of what the server did
    notes = (await session.scalars(select(Notification).where(Notification.user_id == olga_id))).all()
    assert [n.kind for n in notes] == ["STAFF_BINDING"]
    # and her later request for TEACHER at that school shows as invited to the reviewer
    invited = await make_staff_binding(session, user_id=olga_id, school_id=w.school.id)
    stranger = await make_staff_binding(session, school_id=w.school.id)
    await session.commit()
    q = "query($id: ID!) { node(id: $id) { ... on StaffBinding { invited } } }"
    for binding, expected in ((invited, True), (stranger, False)):
        got = await gql.data(q, {"id": gid("StaffBinding", binding.id)}, token=admin)
        assert got["node"]["invited"] is expected


async def test_invite_needs_a_valid_contact_and_refuses_a_teacher_already_there(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    w = await build_world(session)
    admin = await token(gql, w.admin)
    none = await gql.data(INVITE, {"i": {"schoolId": w.school_gid}}, token=admin)
    assert [(e["field"], e["code"]) for e in none["inviteTeacher"]["userErrors"]] == [(["phone"], "REQUIRED")]
    bad = await gql.data(INVITE, {"i": {"schoolId": w.school_gid, "phone": "12", "email": "nope"}}, token=admin)
    assert {tuple(e["field"]) for e in bad["inviteTeacher"]["userErrors"]} == {("phone",), ("email",)}
    there = await gql.data(INVITE, {"i": {"schoolId": w.school_gid, "email": "teacher@example.ru"}}, token=admin)
    assert [e["code"] for e in there["inviteTeacher"]["userErrors"]] == ["CONFLICT"]
    assert await _count(session, TeacherInvitation) == 0


async def test_assign_and_unassign_a_teacher(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a class, a subject, a teacher of the school and one of another school
    w = await build_world(session)
    klass = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="А")
    maths = await make_subject(session, school=w.school, name="Математика")
    await session.commit()
    admin = await token(gql, w.admin)
    i = {
        "teacherId": gid("User", w.teacher.id),
        "classId": gid("SchoolClass", klass.id),
        "subjectId": gid("Subject", maths.id),
    }
    # when the admin assigns the teacher
    data = await gql.data(ASSIGN, {"i": i}, token=admin)
    assignment = data["assignTeacher"]["assignment"]
    assert assignment["schoolClass"]["name"] == "5А"
    assert assignment["subject"]["name"] == "Математика"
    # then the class lists them
    q = "query($id: ID!) { node(id: $id) { ... on SchoolClass { teachers { teacher { id } subject { name } } } } }"
    got = await gql.data(q, {"id": gid("SchoolClass", klass.id)}, token=admin)
    assert got["node"]["teachers"] == [
        {"teacher": {"id": gid("User", w.teacher.id)}, "subject": {"name": "Математика"}}
    ]
    # and the same assignment twice, or another school's teacher, is refused
    dup = await gql.data(ASSIGN, {"i": i}, token=admin)
    assert [e["code"] for e in dup["assignTeacher"]["userErrors"]] == ["DUPLICATE"]
    foreign = await gql.data(ASSIGN, {"i": {**i, "teacherId": gid("User", w.other_teacher.id)}}, token=admin)
    assert [(e["field"], e["code"]) for e in foreign["assignTeacher"]["userErrors"]] == [(["teacherId"], "INVALID")]
    # when the admin removes the assignment, it is gone
    data = await gql.data(UNASSIGN, {"i": {"assignmentId": assignment["id"]}}, token=admin)
    assert data["unassignTeacher"] == {"removedAssignmentId": assignment["id"], "userErrors": []}
    assert await _count(session, TeachingAssignment) == 0


# --- children ------------------------------------------------------------------------


async def test_enroll_a_new_child_then_find_them_again_by_snils(gql: GraphQLClient, session: AsyncSession) -> None:
    # given two classes of the year
    w = await build_world(session)
    a = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="А")
    b = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="Б")
    await session.commit()
    admin = await token(gql, w.admin)
    # when a new child is enrolled in 5А
    i = {"classId": gid("SchoolClass", a.id), "child": _child_input(), "startsOn": "2026-09-01"}
    data = await gql.data(ENROLL, {"i": i}, token=admin)
    payload = data["enrollChild"]
    assert payload["userErrors"] == []
    assert payload["child"]["fullName"] == "Иванов Пётр Сергеевич"
    assert payload["child"]["snils"] == "11223344595"
    assert payload["child"]["currentClass"] == {"name": "5А"}
    # then enrolling the same child (by SNILS) in 5Б the same year is refused: move them instead
    again = {
        "classId": gid("SchoolClass", b.id),
        "child": _child_input(birthCertificate=None),
        "startsOn": "2026-09-01",
    }
    data = await gql.data(ENROLL, {"i": again}, token=admin)
    assert [(e["field"], e["code"]) for e in data["enrollChild"]["userErrors"]] == [(["classId"], "CONFLICT")]
    assert await _count(session, Child) == 1


async def test_enroll_reports_every_bad_child_field(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await build_world(session)
    a = await make_school_class(session, academic_year_id=w.year.id)
    await session.commit()
    admin = await token(gql, w.admin)
    child = _child_input(
        lastName="", snils="112-233-445 96", birthCertificate={"series": "АБВ", "number": "12"}, citizenship="RU"
    )
    data = await gql.data(
        ENROLL, {"i": {"classId": gid("SchoolClass", a.id), "child": child, "startsOn": "2027-07-01"}}, token=admin
    )
    assert {(tuple(e["field"]), e["code"]) for e in data["enrollChild"]["userErrors"]} == {
        (("child", "lastName"), "REQUIRED"),
        (("child", "snils"), "INVALID"),
        (("child", "birthCertificate", "series"), "INVALID"),
        (("child", "birthCertificate", "number"), "INVALID"),
        (("child", "citizenship"), "INVALID"),
        (("startsOn",), "INVALID"),
    }
    assert await _count(session, Enrollment) == 0


async def test_move_child_keeps_both_enrolments(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a child in 5А since September
    w = await build_world(session)
    a = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="А")
    b = await make_school_class(session, academic_year_id=w.year.id, level=5, letter="Б")
    child = await make_enrolled_child(session, class_id=a.id)
    await session.commit()
    admin = await token(gql, w.admin)
    i = {"childId": gid("Child", child.id), "toClassId": gid("SchoolClass", b.id), "on": "2026-11-09"}
    # when the admin moves them to 5Б from 9 November
    data = await gql.data(MOVE, {"i": i}, token=admin)
    # then 5А ends on 8 November and 5Б starts on the 9th
    assert data["moveChild"] == {
        "ended": {"startsOn": "2026-09-01", "endsOn": "2026-11-08", "schoolClass": {"name": "5А"}},
        "started": {"startsOn": "2026-11-09", "endsOn": None, "schoolClass": {"name": "5Б"}},
        "userErrors": [],
    }
    q = """query($id: ID!) {
      node(id: $id) { ... on Child { currentClass { name } enrollments { schoolClass { name } } } }
    }"""
    got = await gql.data(q, {"id": gid("Child", child.id)}, token=admin)
    assert got["node"]["currentClass"] == {"name": "5Б"}
    assert [e["schoolClass"]["name"] for e in got["node"]["enrollments"]] == ["5А", "5Б"]
    # and moving into the class they are in, or before they were enrolled, is refused
    same = await gql.data(MOVE, {"i": {**i, "on": "2026-12-01"}}, token=admin)
    assert [(e["field"], e["code"]) for e in same["moveChild"]["userErrors"]] == [(["toClassId"], "INVALID")]
    back = {**i, "toClassId": gid("SchoolClass", a.id), "on": "2026-11-09"}
    early = await gql.data(MOVE, {"i": back}, token=admin)
    assert [(e["field"], e["code"]) for e in early["moveChild"]["userErrors"]] == [(["on"], "INVALID")]


async def test_move_needs_an_enrolment_in_that_year(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await build_world(session)
    b = await make_school_class(session, academic_year_id=w.year.id)
    child = await make_child(session, sex=Sex.FEMALE, school_id=w.school.id)
    await session.commit()
    admin = await token(gql, w.admin)
    i = {"childId": gid("Child", child.id), "toClassId": gid("SchoolClass", b.id), "on": "2026-11-09"}
    data = await gql.data(MOVE, {"i": i}, token=admin)
    assert [(e["field"], e["code"]) for e in data["moveChild"]["userErrors"]] == [(["childId"], "INVALID_STATE")]


# --- who may not -----------------------------------------------------------------------


async def _inputs(session: AsyncSession, w: World) -> dict[str, tuple[str, dict[str, Any]]]:
    klass = await make_school_class(session, academic_year_id=w.year.id, level=7, letter="В")
    other_class = await make_school_class(session, academic_year_id=w.year.id, level=7, letter="Г")
    subject = await make_subject(session, school=w.school)
    child = await make_enrolled_child(session, class_id=klass.id)
    await session.commit()
    taught = await make_subject(session, school=w.school)
    await session.commit()
    assignment = await make_teaching_assignment(
        session, teacher_id=w.teacher.id, class_id=klass.id, subject_id=taught.id
    )
    await session.commit()
    c = gid("SchoolClass", klass.id)
    return {
        "createAcademicYear": (CREATE_YEAR, _year_input(w)),
        "createSubject": (CREATE_SUBJECT, {"schoolId": w.school_gid, "name": "Физика"}),
        "createControlType": (
            CREATE_CONTROL,
            {"schoolId": w.school_gid, "code": "QUIZ", "name": "Самостоятельная", "weight": "1"},
        ),
        "createClass": (
            CREATE_CLASS,
            {"schoolId": w.school_gid, "academicYearId": w.year_gid, "level": 1, "letter": "А"},
        ),
        "inviteTeacher": (INVITE, {"schoolId": w.school_gid, "email": "x@example.ru"}),
        "assignTeacher": (
            ASSIGN,
            {"teacherId": gid("User", w.teacher.id), "classId": c, "subjectId": gid("Subject", subject.id)},
        ),
        "unassignTeacher": (UNASSIGN, {"assignmentId": gid("TeachingAssignment", assignment.id)}),
        "enrollChild": (
            ENROLL,
            {
                "classId": c,
                "child": _child_input(snils=snils11(900_001), birthCertificate=None),
                "startsOn": "2026-09-01",
            },
        ),
        "moveChild": (
            MOVE,
            {"childId": gid("Child", child.id), "toClassId": gid("SchoolClass", other_class.id), "on": "2026-11-09"},
        ),
    }


@pytest.mark.parametrize("who", ["teacher", "other_admin", "parent", "operator", "integrator"])
async def test_only_the_schools_admin_may_set_it_up(gql: GraphQLClient, session: AsyncSession, who: str) -> None:
    # given someone who is not the school's admin
    w = await build_world(session)
    inputs = await _inputs(session, w)
    before = {
        m: await _count(session, m)
        for m in (AcademicYear, Subject, ControlType, SchoolClass, TeacherInvitation, TeachingAssignment, Enrollment)
    }
    user_token = await token(gql, getattr(w, who))
    # when they try every setup mutation
    for name, (query, i) in inputs.items():
        body = await gql.post(query, {"i": i}, token=user_token)
        # then each is refused as FORBIDDEN, and nothing changes
        assert (body["data"] or {}).get(name) is None, (name, body)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (name, body)
    after = {m: await _count(session, m) for m in before}
    assert after == before


async def test_anonymous_is_unauthenticated(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await build_world(session)
    body = await gql.post(CREATE_SUBJECT, {"i": {"schoolId": w.school_gid, "name": "Физика"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_admin_setup_mutations_all_work_with_the_same_inputs(gql: GraphQLClient, session: AsyncSession) -> None:
    """The inputs refused above are good ones: the admin gets each through."""
    w = await build_world(session)
    inputs = await _inputs(session, w)
    admin = await token(gql, w.admin)
    for name, (query, i) in inputs.items():
        data = await gql.data(query, {"i": i}, token=admin)
        assert data[name]["userErrors"] == [], (name, data)
