"""requestStaffBinding over real HTTP: a multipart request with the document."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import SchoolStatus, StaffBindingStatus, StaffRole, UserStatus
from ediary_gql.db.models.schools import School, StaffBinding
from ediary_gql.db.models.users import User
from ediary_gql.settings import Settings
from tests.factories import make_school, make_staff_binding, make_staff_membership, make_user
from tests.sample_files import big_pdf, tiny_pdf, tiny_png, windows_exe
from tests.support import GraphQLClient, stored_files

PASSWORD = "correct horse battery"
REQUEST = """mutation($i: RequestStaffBindingInput!) {
  requestStaffBinding(input: $i) {
    staffBinding {
      id role status documentKind comment reason decidedAt createdAt
      user { fullName }
      school { id shortName inn status }
      document { fileName contentType sizeBytes sha256 url }
    }
    userErrors { field code message }
  }
}"""
PDF = ("Приказ о назначении.pdf", tiny_pdf(), "application/pdf")


async def request_binding(
    gql: GraphQLClient,
    token: str | None,
    inn: str,
    *,
    role: str = "TEACHER",
    kind: str = "APPOINTMENT_ORDER",
    file: tuple[str, bytes, str] = PDF,
    comment: str | None = None,
    csrf_header: bool = True,
) -> httpx.Response:
    variables = {"i": {"schoolInn": inn, "role": role, "documentKind": kind, "document": None, "comment": comment}}
    return await gql.upload(REQUEST, variables, {"i.document": file}, token=token, csrf_header=csrf_header)


def payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["requestStaffBinding"]
    return result


async def _teacher_to_be(session: AsyncSession, gql: GraphQLClient, **kw: Any) -> tuple[School, str]:
    school = await make_school(session)
    await make_user(session, email="olga@example.ru", password=PASSWORD, **kw)
    await session.commit()
    return school, await gql.sign_in("olga@example.ru", PASSWORD)


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_request_with_a_pdf_creates_a_pending_binding(
    gql: GraphQLClient, session: AsyncSession, settings: Settings
) -> None:
    # given a confirmed user and an active school
    school, token = await _teacher_to_be(session, gql)
    before = len(stored_files(settings))
    # when she asks to teach there, with her appointment order as a PDF
    result = payload(await request_binding(gql, token, school.inn, comment="  Учитель математики  "))
    # then a PENDING request exists, with the document checked and kept
    assert result["userErrors"] == []
    binding = result["staffBinding"]
    assert binding["role"] == "TEACHER"
    assert binding["status"] == "PENDING"
    assert binding["documentKind"] == "APPOINTMENT_ORDER"
    assert binding["decidedAt"] is None
    assert binding["comment"] == "Учитель математики"
    assert binding["school"] == {
        "id": to_base64("School", school.id),
        "shortName": school.short_name,
        "inn": school.inn,
        "status": "ACTIVE",
    }
    document = binding["document"]
    assert document["fileName"] == "Приказ о назначении.pdf"
    assert document["contentType"] == "application/pdf"
    assert document["sizeBytes"] == len(PDF[1])
    assert len(document["sha256"]) == 64
    assert "/files/" in document["url"]
    assert len(stored_files(settings)) == before + 1
    # and the comment is kept on the request, and in its audit entry
    row = (await session.scalars(select(StaffBinding))).one()
    assert row.comment == "Учитель математики"
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "requestStaffBinding"))).one()
    assert entry.school_id == school.id
    assert entry.after is not None
    assert entry.after["comment"] == "Учитель математики"


async def test_a_png_is_accepted_and_typed_by_content(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    # a PNG sent under a .pdf name and a PDF content type is still a PNG
    result = payload(await request_binding(gql, token, school.inn, file=("скан.pdf", tiny_png(), "application/pdf")))
    assert result["userErrors"] == []
    assert result["staffBinding"]["document"]["contentType"] == "image/png"


async def test_a_renamed_exe_is_refused(gql: GraphQLClient, session: AsyncSession, settings: Settings) -> None:
    school, token = await _teacher_to_be(session, gql)
    before = len(stored_files(settings))
    # when a Windows program is sent as "приказ.pdf" with a PDF content type
    result = payload(
        await request_binding(gql, token, school.inn, file=("приказ.pdf", windows_exe(), "application/pdf"))
    )
    # then it is refused by its content, and nothing is kept
    assert result["staffBinding"] is None
    assert result["userErrors"] == [
        {
            "field": ["document"],
            "code": "FILE_TYPE_NOT_ALLOWED",
            "message": "Допустимы только файлы PDF, JPG или PNG; тип определяется по содержимому, а не по имени",
        }
    ]
    assert await _count(session, StaffBinding) == 0
    assert await _count(session, Attachment) == 0
    assert len(stored_files(settings)) == before


async def test_a_six_megabyte_file_is_refused(gql: GraphQLClient, session: AsyncSession, settings: Settings) -> None:
    school, token = await _teacher_to_be(session, gql)
    before = len(stored_files(settings))
    result = payload(
        await request_binding(gql, token, school.inn, file=("приказ.pdf", big_pdf(6 * 1024 * 1024), "application/pdf"))
    )
    assert result["userErrors"] == [{"field": ["document"], "code": "FILE_TOO_LARGE", "message": "Файл больше 5 МБ"}]
    assert await _count(session, Attachment) == 0
    assert len(stored_files(settings)) == before


async def test_an_empty_file_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    result = payload(await request_binding(gql, token, school.inn, file=("пусто.pdf", b"", "application/pdf")))
    assert result["userErrors"] == [{"field": ["document"], "code": "INVALID", "message": "Файл пуст"}]


async def test_multipart_without_the_csrf_header_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    response = await request_binding(gql, token, school.inn, csrf_header=False)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "CSRF_HEADER_REQUIRED"}
    assert "Apollo-Require-Preflight" in error["message"]
    assert await _count(session, StaffBinding) == 0


async def test_a_file_sent_as_json_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    variables = {"i": {"schoolInn": school.inn, "role": "TEACHER", "documentKind": "APPOINTMENT_ORDER"}}
    variables["i"]["document"] = "not a file"
    data = await gql.data(REQUEST, variables, token=token)
    assert data["requestStaffBinding"]["userErrors"] == [
        {"field": ["document"], "code": "INVALID", "message": "Ожидается файл (multipart-запрос)"}
    ]


async def test_a_temporary_account_may_not_ask(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql, status=UserStatus.TEMPORARY)
    result = payload(await request_binding(gql, token, school.inn))
    assert [e["code"] for e in result["userErrors"]] == ["ACCOUNT_NOT_CONFIRMED"]
    assert await _count(session, Attachment) == 0


async def test_an_anonymous_user_may_not_ask(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await make_school(session)
    await session.commit()
    response = await request_binding(gql, None, school.inn)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_every_problem_is_told_at_once(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await _teacher_to_be(session, gql)
    result = payload(
        await request_binding(
            gql, token, "7701234567", comment="ж" * 1001, file=("a.pdf", windows_exe(), "application/pdf")
        )
    )
    assert {(e["field"][0], e["code"]) for e in result["userErrors"]} == {
        ("comment", "TOO_LONG"),
        ("schoolInn", "INVALID"),
        ("document", "FILE_TYPE_NOT_ALLOWED"),
    }


async def test_inn_of_no_active_school_is_not_found_and_the_file_is_not_kept(
    gql: GraphQLClient, session: AsyncSession, settings: Settings
) -> None:
    pending = await make_school(session, status=SchoolStatus.PENDING)
    _, token = await _teacher_to_be(session, gql)
    before = len(stored_files(settings))
    for inn in (pending.inn, "7707083893"):  # a pending school; a valid INN nobody registered
        result = payload(await request_binding(gql, token, inn))
        assert result["userErrors"] == [
            {"field": ["schoolInn"], "code": "NOT_FOUND", "message": "Действующая школа с таким ИНН не найдена"}
        ]
    # the PDF was fine and got stored, but the transaction rolled back: the bytes went with it
    assert await _count(session, Attachment) == 0
    assert len(stored_files(settings)) == before


async def test_inn_with_a_wrong_check_digit_is_invalid(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    wrong = school.inn[:-1] + str((int(school.inn[-1]) + 1) % 10)
    for inn in (wrong, "12345", "77О1234567"):
        result = payload(await request_binding(gql, token, inn))
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["schoolInn"], "INVALID")]


async def test_a_second_pending_request_for_the_same_school_and_role_is_refused(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    school, token = await _teacher_to_be(session, gql)
    assert payload(await request_binding(gql, token, school.inn))["userErrors"] == []
    again = payload(await request_binding(gql, token, school.inn))
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["role"], "DUPLICATE")]
    # another role at the same school is a request of its own
    other = payload(await request_binding(gql, token, school.inn, role="INTEGRATOR", kind="SERVICE_CONTRACT"))
    assert other["userErrors"] == []


async def test_a_role_already_held_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    user_id = await _user_id(session, "olga@example.ru")
    await make_staff_membership(session, user_id=user_id, school_id=school.id, role=StaffRole.TEACHER)
    await session.commit()
    result = payload(await request_binding(gql, token, school.inn))
    assert result["userErrors"] == [
        {"field": ["role"], "code": "CONFLICT", "message": "У вас уже есть роль «учитель» в этой школе"}
    ]


async def test_a_rejected_request_may_be_made_again(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    user_id = await _user_id(session, "olga@example.ru")
    await make_staff_binding(session, user_id=user_id, school_id=school.id, status=StaffBindingStatus.REJECTED)
    await session.commit()
    assert payload(await request_binding(gql, token, school.inn))["userErrors"] == []


async def _user_id(session: AsyncSession, email: str) -> int:
    return int((await session.scalars(select(User.id).where(User.email == email))).one())


async def test_the_same_request_sent_twice_at_once_is_made_once(gql: GraphQLClient, session: AsyncSession) -> None:
    school, token = await _teacher_to_be(session, gql)
    responses = await asyncio.gather(*(request_binding(gql, token, school.inn) for _ in range(2)))
    codes = sorted(tuple(e["code"] for e in payload(r)["userErrors"]) for r in responses)
    assert codes == [(), ("DUPLICATE",)]
    assert await _count(session, StaffBinding) == 1
    assert await _count(session, Attachment) == 1
