"""Applications over real HTTP: drafts, submission, approval end to end, who may read them."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64, to_base64

from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus, StaffRole, UserStatus
from ediary_gql.db.models.notifications import Notification
from tests.application_support import (
    SCAN,
    UPDATE,
    create,
    form,
    make_world,
    person,
    review,
    staff,
    submit,
    submitted,
    with_place,
)
from tests.factories import make_child, make_enrollment, make_school, make_school_class
from tests.sample_files import tiny_png, windows_exe
from tests.support import GraphQLClient

READ = "query($id: ID!) { application(id: $id) { id number status child { lastName snils } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Application { number } } }"
MY = "{ myApplications { totalCount edges { node { id status } } } }"


def _pk(global_id: str) -> int:
    return int(from_base64(global_id)[1])


async def test_happy_path_from_draft_to_the_child_in_my_children(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an open school with a class, its admin, and a confirmed parent
    world = await make_world(session, gql)

    # when the parent saves a draft with the birth certificate scan
    data = await with_place(session, world, form(world))
    draft = await create(gql, world.parent.token, data, [("BIRTH_CERTIFICATE", SCAN)])
    # then it is a DRAFT, normalised, with the file, that only she may edit and submit
    assert draft["userErrors"] == []
    app = draft["application"]
    assert app["status"] == "DRAFT"
    assert app["number"] is None
    assert app["availableActions"] == ["UPDATE", "SUBMIT"]
    assert app["child"]["snils"] == "11223344595"
    assert app["child"]["birthCertificate"] == {"series": "IV-АБ", "number": "123456", "issuedOn": "2019-05-20"}
    assert app["className"] == "1А"
    assert [a["kind"] for a in app["attachments"]] == ["BIRTH_CERTIFICATE"]
    assert app["attachments"][0]["file"]["contentType"] == "application/pdf"

    # when she submits it
    sent = await submit(gql, world.parent.token, app["id"])
    # then it has a number and a due date, and she can no longer change it
    assert sent["userErrors"] == []
    app = sent["application"]
    assert app["status"] == "SUBMITTED"
    assert re.fullmatch(r"ED-\d{4}-000001", app["number"])
    assert dt.date.fromisoformat(app["dueOn"]) > dt.date.today()
    assert app["availableActions"] == []
    # and the school's admin is told of the new application
    note = (await session.scalars(select(Notification).where(Notification.user_id == world.admin.user_id))).one()
    assert app["number"] in note.body

    # when the admin accepts, reviews and approves it
    for action, status in (("ACCEPT", "ACCEPTED"), ("START_REVIEW", "IN_REVIEW"), ("APPROVE", "APPROVED")):
        result = await review(gql, world.admin.token, app["id"], action)
        assert result["userErrors"] == [], result
        assert result["application"]["status"] == status
    app = result["application"]
    assert app["availableActions"] == []

    # then the child, the guardianship and the enrolment exist
    child = (await session.scalars(select(Child).where(Child.snils == "11223344595"))).one()
    assert (child.last_name, child.birth_cert_series) == ("Иванова-Петрова", "IV-АБ")
    guardianship = (await session.scalars(select(Guardianship).where(Guardianship.child_id == child.id))).one()
    assert guardianship.parent_id == world.parent.user_id
    assert guardianship.application_id == _pk(app["id"])
    enrollments = (await session.scalars(select(Enrollment).where(Enrollment.child_id == child.id))).all()
    assert [(e.class_id, e.ends_on is None) for e in enrollments] == [(world.school_class.id, True)]
    # and the parent sees the child at once
    children = await gql.data("{ myChildren { id lastName firstName } }", token=world.parent.token)
    assert children["myChildren"] == [
        {"id": to_base64("Child", child.id), "lastName": "Иванова-Петрова", "firstName": "Мария"}
    ]
    # and the history holds every step with its actor
    steps = [(h["action"], h["fromStatus"], h["toStatus"]) for h in app["history"]]
    assert steps == [
        ("CREATE", None, "DRAFT"),
        ("SUBMIT", "DRAFT", "SUBMITTED"),
        ("ACCEPT", "SUBMITTED", "ACCEPTED"),
        ("START_REVIEW", "ACCEPTED", "IN_REVIEW"),
        ("APPROVE", "IN_REVIEW", "APPROVED"),
    ]
    assert app["history"][0]["actor"] == {"id": to_base64("User", world.parent.user_id)}
    assert app["history"][2]["actor"] == {"id": to_base64("User", world.admin.user_id)}
    # and the parent was notified of each status change, naming the number
    notes = (
        await session.scalars(
            select(Notification).where(Notification.user_id == world.parent.user_id).order_by(Notification.id)
        )
    ).all()
    assert [n.title for n in notes] == ["Заявка подана", "Заявка принята", "Заявка на проверке", "Заявка одобрена"]
    assert all(app["number"] in n.body for n in notes)


async def test_approval_moves_a_known_child_and_ends_the_old_enrolment(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given the child is already known (by birth certificate) and enrolled in another class this year
    world = await make_world(session, gql)
    old_class = await make_school_class(session, academic_year_id=world.school_class.academic_year_id)
    known = await make_child(session, snils=None, birth_cert_series="IV-АБ", birth_cert_number="123456")
    await make_enrollment(session, child_id=known.id, class_id=old_class.id)
    await session.commit()
    app = await submitted(session, gql, world)
    for action in ("ACCEPT", "START_REVIEW", "APPROVE"):
        assert (await review(gql, world.admin.token, app["id"], action))["userErrors"] == []

    # then no second child is made, the SNILS is filled in, and the old enrolment is closed
    children = (await session.scalars(select(Child))).all()
    assert [c.id for c in children] == [known.id]
    await session.refresh(known)
    assert known.snils == "11223344595"
    rows = (await session.scalars(select(Enrollment).where(Enrollment.child_id == known.id))).all()
    assert {r.class_id: r.ends_on is None for r in rows} == {old_class.id: False, world.school_class.id: True}


async def test_submission_names_every_problem_with_its_path(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    # given an almost empty draft
    draft = await create(gql, world.parent.token, {"child": {"lastName": "Иванов"}})
    assert draft["userErrors"] == []
    # when it is submitted
    result = await submit(gql, world.parent.token, draft["application"]["id"])
    # then every missing field is named at once, and nothing changes
    assert result["application"] is None
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("child", "firstName"), "REQUIRED"),
        (("child", "birthDate"), "REQUIRED"),
        (("child", "sex"), "REQUIRED"),
        (("child", "birthCertificate", "series"), "REQUIRED"),
        (("child", "birthCertificate", "number"), "REQUIRED"),
        (("child", "birthCertificate", "issuedOn"), "REQUIRED"),
        (("regionCode",), "REQUIRED"),
        (("settlementId",), "REQUIRED"),
        (("schoolId",), "REQUIRED"),
        (("classId",), "REQUIRED"),
        (("attachments",), "REQUIRED"),
    }
    read = await gql.data(READ, {"id": draft["application"]["id"]}, token=world.parent.token)
    assert read["application"]["status"] == "DRAFT"


async def test_malformed_fields_are_refused_all_at_once(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    data = form(
        world,
        lastName="Ivanova",
        firstName="Мария2",
        snils="112-233-445 96",
        birthDate=(dt.date.today() + dt.timedelta(days=1)).isoformat(),
        birthCertificate={"series": "IIII-АБ", "number": "12345", "issuedOn": "2019-05-20"},
        citizenship="999",
    )
    result = await create(gql, world.parent.token, data)
    assert result["application"] is None
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("child", "lastName"), "INVALID"),
        (("child", "firstName"), "INVALID"),
        (("child", "snils"), "INVALID"),
        (("child", "birthDate"), "INVALID"),
        (("child", "birthCertificate", "series"), "INVALID"),
        (("child", "birthCertificate", "number"), "INVALID"),
        (("child", "birthCertificate", "issuedOn"), "INVALID"),  # before the (future) birth date
        (("child", "citizenship"), "INVALID"),
    }
    assert all(re.search("[а-я]", e["message"]) for e in result["userErrors"])


async def test_only_active_schools_open_to_parents_take_applications(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    testing = await make_school(session, launch_mode=LaunchMode.TEST)
    pending = await make_school(session, status=SchoolStatus.PENDING)
    other_class = await make_school_class(session)
    await session.commit()
    for school in (testing, pending):
        result = await create(gql, world.parent.token, {"schoolId": to_base64("School", school.id)})
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["schoolId"], "NOT_FOUND")]
    # a class of another school
    data = {"schoolId": world.school_gid, "classId": to_base64("SchoolClass", other_class.id)}
    result = await create(gql, world.parent.token, data)
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["classId"], "NOT_FOUND")]


async def test_a_renamed_program_is_refused_as_an_attachment(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    result = await create(
        gql,
        world.parent.token,
        {"child": {"lastName": "Иванов"}},
        [("BIRTH_CERTIFICATE", ("скан.pdf", windows_exe(), "application/pdf"))],
    )
    assert result["application"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["attachments", "0", "file"], "FILE_TYPE_NOT_ALLOWED")
    ]


async def test_anonymous_and_unconfirmed_users_may_not_apply(gql: GraphQLClient, session: AsyncSession) -> None:
    anonymous = await gql.post("mutation { createApplication(input: {}) { application { id } userErrors { code } } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    newcomer = await person(session, gql, "new@example.ru", status=UserStatus.TEMPORARY)
    result = await create(gql, newcomer.token, {})
    assert [e["code"] for e in result["userErrors"]] == ["ACCOUNT_NOT_CONFIRMED"]


async def test_update_replaces_the_form_and_the_files(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    draft = (await create(gql, world.parent.token, {}, [("OTHER", ("фото.png", tiny_png(), "image/png"))]))[
        "application"
    ]
    old_file = draft["attachments"][0]["file"]["id"]
    data = await with_place(session, world, form(world, middleName=None))
    variables = {
        "i": {
            "applicationId": draft["id"],
            **data,
            "attachments": [{"kind": "BIRTH_CERTIFICATE", "file": None}],
            "removeAttachments": [old_file],
        }
    }
    response = await gql.upload(UPDATE, variables, {"i.attachments.0.file": SCAN}, token=world.parent.token)
    result = response.json()["data"]["updateApplication"]
    assert result["userErrors"] == []
    app = result["application"]
    assert app["child"]["middleName"] is None
    assert [a["kind"] for a in app["attachments"]] == ["BIRTH_CERTIFICATE"]
    assert [h["action"] for h in app["history"]] == ["CREATE", "UPDATE"]
    assert (await submit(gql, world.parent.token, app["id"]))["userErrors"] == []


async def test_only_the_applicant_edits_and_only_before_submission(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    stranger = await person(session, gql, "stranger@example.ru")
    draft = (await create(gql, world.parent.token, {}))["application"]
    # another parent cannot see it to change it
    result = await gql.data(UPDATE, {"i": {"applicationId": draft["id"]}}, token=stranger.token)
    assert [(e["field"], e["code"]) for e in result["updateApplication"]["userErrors"]] == [
        (["applicationId"], "NOT_FOUND")
    ]
    assert (await submit(gql, stranger.token, draft["id"]))["userErrors"][0]["code"] == "NOT_FOUND"
    # once submitted, the school's admin sees it but may not edit it
    app = await submitted(session, gql, world)
    refused = await gql.post(UPDATE, {"i": {"applicationId": app["id"]}}, token=world.admin.token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # nor may the parent, while the school has it
    result = await gql.data(UPDATE, {"i": {"applicationId": app["id"]}}, token=world.parent.token)
    error = result["updateApplication"]["userErrors"][0]
    assert error["code"] == "INVALID_STATE"
    assert "SUBMITTED" in error["message"]


async def test_who_may_read_an_application(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    draft = (await create(gql, world.parent.token, {}))["application"]
    # a draft is the applicant's alone
    assert (await gql.data(READ, {"id": draft["id"]}, token=world.admin.token))["application"] is None
    app = await submitted(session, gql, world)
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    other_admin = await staff(session, gql, "admin@other.example.ru", await make_school(session))
    stranger = await person(session, gql, "stranger@example.ru")
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)

    for allowed in (world.parent, world.admin, operator):
        read = await gql.data(READ, {"id": app["id"]}, token=allowed.token)
        assert read["application"]["number"] == app["number"]
        assert (await gql.data(NODE, {"id": app["id"]}, token=allowed.token))["node"]["number"] == app["number"]
    for refused in (teacher, other_admin, stranger):
        assert (await gql.data(READ, {"id": app["id"]}, token=refused.token))["application"] is None
        assert (await gql.data(NODE, {"id": app["id"]}, token=refused.token))["node"] is None
    anonymous = await gql.post(READ, {"id": app["id"]})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # each parent's own list holds only their applications
    mine = await gql.data(MY, token=world.parent.token)
    assert [e["node"]["id"] for e in mine["myApplications"]["edges"]] == [app["id"], draft["id"]]
    assert (await gql.data(MY, token=stranger.token))["myApplications"]["totalCount"] == 0


async def test_who_may_download_the_scans(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    draft = (await create(gql, world.parent.token, {}, [("BIRTH_CERTIFICATE", SCAN)]))["application"]
    url = draft["attachments"][0]["file"]["url"]
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    other_admin = await staff(session, gql, "admin@other.example.ru", await make_school(session))
    stranger = await person(session, gql, "stranger@example.ru")
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)

    async def status(token: str) -> int:
        async with httpx.AsyncClient() as http:
            return (await http.get(url, headers={"Authorization": f"Bearer {token}"})).status_code

    # while a draft, the file is the applicant's alone
    assert await status(world.parent.token) == 200
    assert await status(world.admin.token) == 404
    # once submitted: the applicant and the school's admins; nobody else, operators neither
    # (the scan is a child's document: policy.can_view_application_documents)
    data = await with_place(session, world, form(world))
    await gql.data(UPDATE, {"i": {"applicationId": draft["id"], **data}}, token=world.parent.token)
    assert (await submit(gql, world.parent.token, draft["id"]))["userErrors"] == []
    for allowed in (world.parent, world.admin):
        assert await status(allowed.token) == 200
    for refused in (teacher, other_admin, stranger, operator):
        assert await status(refused.token) == 404
    # and the child's SNILS and certificate in the application: not for operators either
    child = """query($id: ID!) { node(id: $id) { ... on Application {
      status child { lastName snils birthCertificate { series number } } } } }"""
    seen = (await gql.data(child, {"id": draft["id"]}, token=operator.token))["node"]
    assert seen == {
        "status": "SUBMITTED",
        "child": {"lastName": "Иванова-Петрова", "snils": None, "birthCertificate": {"series": None, "number": None}},
    }
    own = (await gql.data(child, {"id": draft["id"]}, token=world.admin.token))["node"]["child"]
    assert own["snils"] == "11223344595"
    assert own["birthCertificate"] == {"series": "IV-АБ", "number": "123456"}
    # and through the API, the file is null for those who may not read it
    query = "query($id: ID!) { node(id: $id) { ... on Attachment { id } } }"
    file_id = draft["attachments"][0]["file"]["id"]
    assert (await gql.data(query, {"id": file_id}, token=world.admin.token))["node"] == {"id": file_id}
    assert (await gql.data(query, {"id": file_id}, token=teacher.token))["node"] is None


async def test_a_second_open_application_for_the_same_child_is_refused(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    world = await make_world(session, gql)
    first = await submitted(session, gql, world)
    data = await with_place(session, world, form(world))
    draft = await create(gql, world.parent.token, data, [("BIRTH_CERTIFICATE", SCAN)])
    result = await submit(gql, world.parent.token, draft["application"]["id"])
    [error] = result["userErrors"]
    assert (error["field"], error["code"]) == (["child", "birthCertificate", "number"], "DUPLICATE")
    assert first["number"] in error["message"]


async def test_an_id_of_no_row_is_not_found_not_a_fault(gql: GraphQLClient, session: AsyncSession) -> None:
    # found by tests/fuzz: School:0 was taken for "no school given", and the insert failed
    world = await make_world(session, gql)
    data = {"schoolId": to_base64("School", 0), "classId": to_base64("SchoolClass", 0)}
    result = await create(gql, world.parent.token, data)
    assert result["application"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["schoolId"], "NOT_FOUND"),
        (["classId"], "NOT_FOUND"),
    ]


async def test_ids_of_another_type_are_invalid_each_on_its_path(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    wrong = to_base64("Lesson", 1)
    # every malformed ID of the form is named at once, with its input path
    data = {"settlementId": wrong, "schoolId": wrong, "classId": world.school_gid}
    result = await create(gql, world.parent.token, data)
    assert result["application"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["settlementId"], "INVALID"),
        (["schoolId"], "INVALID"),
        (["classId"], "INVALID"),
    ]
    draft = (await create(gql, world.parent.token, {}))["application"]
    variables = {"i": {"applicationId": draft["id"], "removeAttachments": [wrong]}}
    result = (await gql.data(UPDATE, variables, token=world.parent.token))["updateApplication"]
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["removeAttachments", "0"], "INVALID")]
    result = (await gql.data(UPDATE, {"i": {"applicationId": wrong}}, token=world.parent.token))["updateApplication"]
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["applicationId"], "INVALID")]
    assert [(e["field"], e["code"]) for e in (await submit(gql, world.parent.token, wrong))["userErrors"]] == [
        (["applicationId"], "INVALID")
    ]
