"""A child record is never claimed across schools by its SNILS or birth certificate.

Three ways another school (or a stranger through it) could take over a child that
school A holds: an application to school B, B's enrollChild, B's roster import. Each
gives B a record of its own, tells A's admins and the child's guardians, and reads
nothing of A's; a confirmed transfer merges the records and B then reads only what it
recorded itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64, to_base64

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, ChildTransfer, Enrollment, Guardianship
from ediary_gql.db.models.enums import ChildTransferStatus, NotificationKind, StaffRole, UserStatus
from ediary_gql.db.models.notifications import Notification
from ediary_gql.services.roster_import.importer import import_roster
from ediary_gql.services.roster_import.run import ImportFile
from ediary_gql.services.school_time import today_in
from tests.application_support import SCAN, Person, create, form, make_world, person, review, staff, submit, with_place
from tests.factories import (
    make_academic_year,
    make_enrolled_child,
    make_grade,
    make_guardianship,
    make_lesson,
    make_school,
    make_school_class,
)
from tests.support import GraphQLClient

SNILS = "11223344595"  # the application form's child
CERT = ("IV-АБ", "123456")
BEFORE_B = dt.date(2026, 9, 7)  # a lesson at school A, before school B enrols the child

TRANSFERS = """query($status: ChildTransferStatus) {
  childTransfers(status: $status) {
    totalCount
    edges { node {
      id status child { id fullName } fromSchool { id } toSchool { id }
      requestedChild { lastName birthDate } incomingGuardians
    } }
  }
}"""
CONFIRM = """mutation($i: ConfirmChildTransferInput!) {
  confirmChildTransfer(input: $i) { childTransfer { id status } userErrors { field code message } }
}"""
DECLINE = """mutation($i: DeclineChildTransferInput!) {
  declineChildTransfer(input: $i) { childTransfer { id status reason } userErrors { field code message } }
}"""
ENROLL = """mutation($i: EnrollChildInput!) {
  enrollChild(input: $i) {
    child { id snils birthCertificate { series number } }
    userErrors { field code message }
  }
}"""
CHILD = "query($id: ID!) { node(id: $id) { ... on Child { id birthCertificate { number } } } }"
DIARY = """query($id: ID!, $from: Date!, $to: Date!) {
  diary(childId: $id, from: $from, to: $to) { date lessons { lesson { id } grades { id } } }
}"""


@dataclass
class SchoolA:
    admin: Person
    guardian: Person
    child_id: int
    school_id: int
    class_id: int
    lesson_id: int
    grade_id: int


async def _school_a(session: AsyncSession, gql: GraphQLClient) -> SchoolA:
    """School A holds the child (the application form's SNILS and certificate), with a
    guardian, and a graded lesson before school B comes in."""
    school = await make_school(session)
    year = await make_academic_year(
        session, school_id=school.id, name="2026/2027", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 5, 31)
    )
    klass = await make_school_class(session, school_id=school.id, academic_year_id=year.id, level=1, letter="Б")
    child = await make_enrolled_child(
        session,
        class_id=klass.id,
        last_name="Иванова-Петрова",
        first_name="Мария",
        middle_name="Сергеевна",
        birth_date=dt.date(2019, 5, 10),
        snils=SNILS,
        birth_cert_series=CERT[0],
        birth_cert_number=CERT[1],
    )
    lesson = await make_lesson(session, class_id=klass.id, date=BEFORE_B)
    grade = await make_grade(session, lesson_id=lesson.id, child_id=child.id)
    await session.commit()
    admin = await staff(session, gql, "admin-a@school.example.ru", school)
    guardian = await person(session, gql, "papa-a@example.ru")
    await make_guardianship(session, parent_id=guardian.user_id, child_id=child.id)
    ids = (child.id, school.id, klass.id, lesson.id, grade.id)
    await session.commit()
    return SchoolA(admin, guardian, *ids)


def _pk(global_id: str) -> int:
    return int(from_base64(global_id)[1])


async def _approved(session: AsyncSession, gql: GraphQLClient, token: str, admin_token: str, data: dict) -> int:
    draft = await create(gql, token, data, [("BIRTH_CERTIFICATE", SCAN)])
    assert draft["userErrors"] == [], draft
    app_id = draft["application"]["id"]
    assert (await submit(gql, token, app_id))["userErrors"] == []
    for action in ("ACCEPT", "START_REVIEW", "APPROVE"):
        result = await review(gql, admin_token, app_id, action)
        assert result["userErrors"] == [], result
    return _pk(app_id)


async def _notices(session: AsyncSession, user_id: int) -> list[str]:
    rows = await session.scalars(
        select(Notification.title).where(
            Notification.user_id == user_id, Notification.kind == NotificationKind.SECURITY
        )
    )
    return list(rows.all())


async def test_an_application_to_another_school_does_not_make_a_stranger_the_guardian(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given school A's child, and school B (its admin, and a stranger who knows the child's documents)
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    # when the stranger applies to B with the child's data and B's admin approves
    await _approved(session, gql, b.parent.token, b.admin.token, await with_place(session, b, form(b)))
    # then the stranger is the guardian of B's own new record, not of A's child
    wards = set(await session.scalars(select(Guardianship.child_id).where(Guardianship.parent_id == b.parent.user_id)))
    assert a.child_id not in wards
    assert len(wards) == 1
    [record_id] = wards
    record = await session.get_one(Child, record_id)
    assert record.school_id == b.school.id
    # and reads nothing of A: not the child, not its diary
    assert (await gql.data(CHILD, {"id": to_base64("Child", a.child_id)}, token=b.parent.token))["node"] is None
    refused = await gql.post(
        DIARY, {"id": to_base64("Child", a.child_id), "from": "2026-09-01", "to": "2026-09-30"}, token=b.parent.token
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # and A's child stays enrolled at A only
    open_ones = await session.scalar(
        select(func.count()).where(Enrollment.child_id == a.child_id, Enrollment.ends_on.is_(None))
    )
    assert open_ones == 1
    # and A's admin and the child's guardian are asked; B's admin sees no such request
    session.expire_all()
    assert "Запрос на перевод личного дела" in await _notices(session, a.guardian.user_id)
    assert "Запрос на перевод личного дела" in await _notices(session, a.admin.user_id)
    asked = (await gql.data(TRANSFERS, {}, token=a.admin.token))["childTransfers"]
    assert asked["totalCount"] == 1
    assert asked["edges"][0]["node"]["child"]["id"] == to_base64("Child", a.child_id)
    # with what B gave and who would become a guardian, for the one who decides
    assert asked["edges"][0]["node"]["requestedChild"] == {"lastName": "Иванова-Петрова", "birthDate": "2019-05-10"}
    assert len(asked["edges"][0]["node"]["incomingGuardians"]) == 1
    assert (await gql.data(TRANSFERS, {}, token=b.admin.token))["childTransfers"]["totalCount"] == 0
    assert (await gql.data(TRANSFERS, {}, token=b.parent.token))["childTransfers"]["totalCount"] == 0
    # and B's admin cannot decide it: not found, as for an ID that does not exist
    transfer_id = asked["edges"][0]["node"]["id"]
    for token in (b.admin.token, b.parent.token):
        data = await gql.data(CONFIRM, {"i": {"transferId": transfer_id}}, token=token)
        assert [(e["field"], e["code"]) for e in data["confirmChildTransfer"]["userErrors"]] == [
            (["transferId"], "NOT_FOUND")
        ]


async def test_a_confirmed_transfer_merges_the_records_and_tells_the_guardians(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given an application approved at B for A's child, and the transfer it started
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    b_school_id, b_class_id = b.school.id, b.school_class.id
    await _approved(session, gql, b.parent.token, b.admin.token, await with_place(session, b, form(b)))
    [transfer] = (await gql.data(TRANSFERS, {}, token=a.guardian.token))["childTransfers"]["edges"]
    # when the child's guardian confirms it
    data = await gql.data(CONFIRM, {"i": {"transferId": transfer["node"]["id"]}}, token=a.guardian.token)
    assert data["confirmChildTransfer"] == {
        "childTransfer": {"id": transfer["node"]["id"], "status": "CONFIRMED"},
        "userErrors": [],
    }
    # then one record remains: A's child, now held by B, with both guardians
    session.expire_all()
    held = await session.get_one(Child, a.child_id)
    assert held.school_id == b_school_id
    assert await session.scalar(select(func.count()).select_from(Child)) == 1
    parents = set(await session.scalars(select(Guardianship.parent_id).where(Guardianship.child_id == held.id)))
    assert parents == {a.guardian.user_id, b.parent.user_id}
    # and the enrolment at A ended the day before B's began
    rows = (await session.scalars(select(Enrollment).where(Enrollment.child_id == held.id))).all()
    at_a = next(e for e in rows if e.class_id == a.class_id)
    at_b = next(e for e in rows if e.class_id == b_class_id)
    assert at_a.ends_on == at_b.starts_on - dt.timedelta(days=1)
    # and the guardians are told, the old one of the new guardian too, and A's admins
    assert "Личное дело переведено" in await _notices(session, a.guardian.user_id)
    assert "Новый законный представитель" in await _notices(session, a.guardian.user_id)
    assert "Личное дело переведено" in await _notices(session, b.parent.user_id)
    assert "Личное дело переведено" in await _notices(session, a.admin.user_id)
    # and school A, reading its own grade of the child, does not see where the child went
    where = "query($id: ID!) { node(id: $id) { ... on Grade { child { id currentClass { id } } } } }"
    seen = (await gql.data(where, {"id": to_base64("Grade", a.grade_id)}, token=a.admin.token))["node"]
    assert seen["child"] is None or seen["child"]["currentClass"] is None
    # and deciding again is refused
    again = await gql.data(DECLINE, {"i": {"transferId": transfer["node"]["id"]}}, token=a.admin.token)
    assert [e["code"] for e in again["declineChildTransfer"]["userErrors"]] == ["INVALID_STATE"]


async def test_enrolling_another_schools_child_makes_a_record_of_ones_own(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given A's child, and school B's admin who knows its SNILS, name and birth date
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    b_class_id = b.school_class.id
    child = {
        "lastName": "Иванова-Петрова",
        "firstName": "Мария",
        "birthDate": "2019-05-10",
        "sex": "FEMALE",
        "snils": "112-233-445 95",
    }
    # (from the first day of the year: B cannot cut A's record short by its own start date)
    i = {"classId": b.class_gid, "child": child, "startsOn": "2026-09-01"}
    # when B enrols "them", and, for comparison, a child no school knows
    known = (await gql.data(ENROLL, {"i": i}, token=b.admin.token))["enrollChild"]
    fresh = {**child, "snils": "123-456-789 64", "lastName": "Смирнова"}
    unknown = (await gql.data(ENROLL, {"i": {**i, "child": fresh}}, token=b.admin.token))["enrollChild"]
    # then both are new records of B's, answered alike: no birth certificate B never gave
    assert known["userErrors"] == []
    assert unknown["userErrors"] == []
    assert known["child"]["id"] != to_base64("Child", a.child_id)
    assert known["child"]["birthCertificate"] is None
    assert unknown["child"]["birthCertificate"] is None
    # and A's record is untouched and out of B's sight
    session.expire_all()
    held = await session.get_one(Child, a.child_id)
    assert (held.school_id, held.birth_cert_number) == (a.school_id, CERT[1])
    assert (await gql.data(CHILD, {"id": to_base64("Child", a.child_id)}, token=b.admin.token))["node"] is None
    # when A's admin confirms the first request
    pending = (await gql.data(TRANSFERS, {"status": "PENDING"}, token=a.admin.token))["childTransfers"]
    [first] = [e["node"] for e in pending["edges"]]
    assert first["child"]["id"] == to_base64("Child", a.child_id)
    confirmed = await gql.data(CONFIRM, {"i": {"transferId": first["id"]}}, token=a.admin.token)
    assert confirmed["confirmChildTransfer"]["userErrors"] == []
    # then B reads the child, but not what A recorded before B's enrolment began
    variables = {"id": to_base64("Child", a.child_id), "from": "2026-09-01", "to": "2026-09-30"}
    days = (await gql.data(DIARY, variables, token=b.admin.token))["diary"]
    assert to_base64("Lesson", a.lesson_id) not in {lesson["lesson"]["id"] for d in days for lesson in d["lessons"]}
    # and of the child's enrolments, only its own
    enrolments = """query($id: ID!) { node(id: $id) { ... on Child { enrollments { schoolClass { id } } } } }"""
    got = await gql.data(enrolments, {"id": to_base64("Child", a.child_id)}, token=b.admin.token)
    assert got["node"]["enrollments"] == [{"schoolClass": {"id": to_base64("SchoolClass", b_class_id)}}]
    # and A's enrolment ended the day before the confirmation, not on the start B chose
    session.expire_all()
    ends = await session.scalar(select(Enrollment.ends_on).where(Enrollment.class_id == a.class_id))
    assert ends == today_in("Europe/Moscow") - dt.timedelta(days=1)
    # while the child's guardian still reads the whole diary
    days = (await gql.data(DIARY, variables, token=a.guardian.token))["diary"]
    assert to_base64("Lesson", a.lesson_id) in {lesson["lesson"]["id"] for d in days for lesson in d["lessons"]}


async def test_a_certificate_under_another_name_is_answered_as_for_a_new_child(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given A's child, and B's admin who has its birth certificate but another name
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    child = {
        "lastName": "Кузнецова",
        "firstName": "Мария",
        "birthDate": "2019-05-10",
        "sex": "FEMALE",
        "birthCertificate": {"series": CERT[0], "number": CERT[1]},
    }
    i = {"classId": b.class_gid, "child": child, "startsOn": dt.date.today().isoformat()}
    # when B enrols them
    data = (await gql.data(ENROLL, {"i": i}, token=b.admin.token))["enrollChild"]
    # then it is a new record of B's, with what B gave and nothing more: no "exists elsewhere"
    assert data["userErrors"] == []
    assert data["child"]["id"] != to_base64("Child", a.child_id)
    assert data["child"]["snils"] is None
    assert data["child"]["birthCertificate"] == {"series": CERT[0], "number": CERT[1]}
    session.expire_all()
    held = await session.get_one(Child, a.child_id)
    assert (held.school_id, held.last_name) == (a.school_id, "Иванова-Петрова")
    # and a document alone, under another name, does not trouble A or the family
    assert (await gql.data(TRANSFERS, {}, token=a.admin.token))["childTransfers"]["totalCount"] == 0


async def test_declining_keeps_the_records_apart(gql: GraphQLClient, session: AsyncSession) -> None:
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    await _approved(session, gql, b.parent.token, b.admin.token, await with_place(session, b, form(b)))
    [transfer] = (await gql.data(TRANSFERS, {}, token=a.admin.token))["childTransfers"]["edges"]
    data = await gql.data(
        DECLINE, {"i": {"transferId": transfer["node"]["id"], "reason": "Ребёнок не переводился"}}, token=a.admin.token
    )
    assert data["declineChildTransfer"]["childTransfer"]["status"] == "DECLINED"
    session.expire_all()
    assert await session.scalar(select(func.count()).select_from(Child)) == 2
    assert (await session.get_one(Child, a.child_id)).school_id == a.school_id
    status = await session.scalar(select(ChildTransfer.status))
    assert status == ChildTransferStatus.DECLINED


async def test_an_import_naming_another_schools_child_never_touches_its_record(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given A's child, and school B whose import names it by SNILS, without its certificate,
    # with a guardian row of an email B chose
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    b_school_id = b.school.id
    year = await session.get_one(AcademicYear, b.school_class.academic_year_id)
    classes = f"sourcedId,academicYear,level,letter,homeroomTeacherSourcedId\nCL-1,{year.name},1,В,\n"
    files = [
        ImportFile("classes.csv", classes.encode()),
        ImportFile(
            "children.csv",
            (
                "sourcedId,lastName,firstName,middleName,birthDate,sex,snils,birthCertSeries,birthCertNumber,"
                "birthCertIssuedOn,citizenship,classSourcedId,enrolledOn\n"
                "CH-1,Иванова-Петрова,Мария,,2019-05-10,Ж,112-233-445 95,,,,643,CL-1,\n"
            ).encode(),
        ),
        ImportFile(
            "guardians.csv",
            "sourcedId,lastName,firstName,middleName,email,phone,childSourcedIds\n"
            "G-1,Чужой,Пётр,,planted@example.ru,,CH-1\n".encode(),
        ),
    ]
    admin = Actor(
        user_id=b.admin.user_id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(b_school_id, StaffRole.SCHOOL_ADMIN)}),
    )
    # when B imports it
    result = await import_roster(
        session, actor=admin, school_id=b_school_id, files=files, dry_run=False, today=dt.date(2026, 11, 30)
    )
    assert result.problems == [], result.problems
    await session.commit()
    # then A's record keeps its certificate and its school, and its only guardian
    session.expire_all()
    held = await session.get_one(Child, a.child_id)
    assert (held.school_id, held.birth_cert_series, held.birth_cert_number) == (a.school_id, *CERT)
    parents = set(await session.scalars(select(Guardianship.parent_id).where(Guardianship.child_id == held.id)))
    assert parents == {a.guardian.user_id}
    # and B's child is a record of B's own, which the planted guardian is linked to
    record = (await session.scalars(select(Child).where(Child.school_id == b_school_id))).one()
    assert record.id != held.id
    assert record.external_id == "CH-1"
    # and A is asked about it
    assert (await gql.data(TRANSFERS, {}, token=a.admin.token))["childTransfers"]["totalCount"] == 1
