"""registerSchool over real HTTP: a multipart request with the appointment document."""

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
from ediary_gql.db.models.geo import Settlement
from ediary_gql.db.models.schools import School, StaffBinding
from tests.factories import make_school, make_user
from tests.sample_files import tiny_pdf, windows_exe
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
REGISTER = """mutation($i: RegisterSchoolInput!) {
  registerSchool(input: $i) {
    school {
      id fullName shortName type inn okpo kpp address phone email website
      status launchMode diaryUid rejectionReason createdAt
      settlement { name } region { code name }
      registeredBy { fullName }
      appointmentDocument { fileName contentType }
    }
    userErrors { field code message }
  }
}"""
PDF = ("Приказ о назначении директора.pdf", tiny_pdf(), "application/pdf")


def good_inn(first_nine: str = "501801234") -> str:
    from stdnum.ru import inn

    return first_nine + str(inn.calc_company_check_digit(first_nine))


def good_okpo(first_seven: str = "4123456") -> str:
    from ediary_gql.services.requisites import okpo_check_digit

    return first_seven + str(okpo_check_digit(first_seven))


async def settlement_id(session: AsyncSession, region: str = "50", name: str = "Королёв") -> int:
    # the directory's row: the first of that name (test factories may add namesakes later)
    stmt = select(Settlement.id).where(Settlement.region_code == region, Settlement.name == name)
    return int((await session.scalars(stmt.order_by(Settlement.id).limit(1))).one())


def school_input(settlement: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fullName": "Муниципальное бюджетное общеобразовательное учреждение «Гимназия № 17 имени С. П. Королёва»",
        "shortName": "МБОУ Гимназия № 17",
        "type": "GYMNASIUM",
        "inn": good_inn(),
        "okpo": good_okpo(),
        "kpp": "501801001",
        "address": "141070, Московская обл., г. Королёв, ул. Калининградская, д. 12",
        "settlementId": to_base64("Settlement", settlement),
        "phone": "8 (495) 511-22-33",
        "email": "Gymn17@Korolev-Edu.ru",
        "website": "gymn17.korolev-edu.ru",
        "appointmentDocument": None,
    }
    values.update(overrides)
    return values


async def register(
    gql: GraphQLClient,
    token: str | None,
    values: dict[str, Any],
    *,
    file: tuple[str, bytes, str] = PDF,
    csrf_header: bool = True,
) -> httpx.Response:
    return await gql.upload(
        REGISTER, {"i": values}, {"i.appointmentDocument": file}, token=token, csrf_header=csrf_header
    )


def payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["registerSchool"]
    return result


async def signed_in_user(
    session: AsyncSession, gql: GraphQLClient, email: str = "director@example.ru", **kw: Any
) -> tuple[int, str]:
    user = await make_user(session, email=email, password=PASSWORD, last_name="Сергеева", first_name="Анна", **kw)
    await session.commit()
    return user.id, await gql.sign_in(email, PASSWORD)


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_confirmed_user_registers_a_pending_school(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a confirmed user and the settlement of the school
    user_id, token = await signed_in_user(session, gql)
    place = await settlement_id(session)
    # when she registers the school with her appointment order
    result = payload(await register(gql, token, school_input(place)))
    # then the school is PENDING, its requisites and contacts in canonical form
    assert result["userErrors"] == []
    school = result["school"]
    assert school["status"] == "PENDING"
    assert school["launchMode"] == "TEST"
    assert school["diaryUid"] is None
    assert school["type"] == "GYMNASIUM"
    assert school["inn"] == good_inn()
    assert school["okpo"] == good_okpo()
    assert school["kpp"] == "501801001"
    assert school["phone"] == "+74955112233"
    assert school["email"] == "gymn17@korolev-edu.ru"
    assert school["website"] == "https://gymn17.korolev-edu.ru"
    assert school["settlement"] == {"name": "Королёв"}
    assert school["region"] == {"code": "50", "name": "Московская область"}
    assert school["registeredBy"]["fullName"].startswith("Сергеева Анна")
    assert school["appointmentDocument"] == {"fileName": PDF[0], "contentType": "application/pdf"}
    # and her appointment order waits with a PENDING SCHOOL_ADMIN request
    binding = (await session.scalars(select(StaffBinding))).one()
    assert (binding.user_id, binding.role, binding.status) == (
        user_id,
        StaffRole.SCHOOL_ADMIN,
        StaffBindingStatus.PENDING,
    )
    # and the registration is audited
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "registerSchool"))).one()
    assert entry.actor_user_id == user_id
    assert entry.after is not None
    assert entry.after["inn"] == good_inn()
    assert entry.after["status"] == "PENDING"


async def test_a_bad_inn_gets_its_own_field_error(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    bad = good_inn()[:9] + str((int(good_inn()[9]) + 1) % 10)
    result = payload(await register(gql, token, school_input(await settlement_id(session), inn=bad)))
    assert result["school"] is None
    assert result["userErrors"] == [
        {
            "field": ["inn"],
            "code": "INVALID",
            "message": "ИНН организации указан с ошибкой: не сходится контрольная цифра",
        }
    ]
    assert await count(session, School) == 0


async def test_a_bad_okpo_gets_its_own_field_error(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    bad = good_okpo()[:7] + str((int(good_okpo()[7]) + 1) % 10)
    result = payload(await register(gql, token, school_input(await settlement_id(session), okpo=bad)))
    assert result["userErrors"] == [
        {"field": ["okpo"], "code": "INVALID", "message": "Код ОКПО указан с ошибкой: не сходится контрольная цифра"}
    ]
    assert await count(session, School) == 0


async def test_a_second_school_with_the_same_inn_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school already registered with this INN
    await make_school(session, inn=good_inn())
    _, token = await signed_in_user(session, gql)
    # when another registration names the same INN
    result = payload(await register(gql, token, school_input(await settlement_id(session))))
    # then it is refused on the INN, and its file is not kept
    assert result["userErrors"] == [
        {"field": ["inn"], "code": "DUPLICATE", "message": "Школа с таким ИНН уже зарегистрирована"}
    ]
    assert await count(session, School) == 1
    assert await count(session, Attachment) == 0


async def test_the_same_school_registered_twice_at_once_is_made_once(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    values = school_input(await settlement_id(session))
    responses = await asyncio.gather(*(register(gql, token, values) for _ in range(2)))
    codes = sorted(tuple(e["code"] for e in payload(r)["userErrors"]) for r in responses)
    assert codes == [(), ("DUPLICATE",)]
    assert await count(session, School) == 1
    assert await count(session, Attachment) == 1


async def test_every_bad_value_is_told_at_once_with_its_path(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    values = school_input(
        999_999,
        fullName=" ",
        shortName="Ш" * 201,
        inn="12345",
        okpo="1234567x",
        kpp="12",
        address="",
        phone="12",
        email="not-an-email",
        website="не сайт",
    )
    result = payload(await register(gql, token, values, file=("a.pdf", windows_exe(), "application/pdf")))
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["fullName"], "REQUIRED"),
        (["shortName"], "TOO_LONG"),
        (["address"], "REQUIRED"),
        (["inn"], "INVALID"),
        (["okpo"], "INVALID"),
        (["kpp"], "INVALID"),
        (["phone"], "INVALID"),
        (["email"], "INVALID"),
        (["website"], "INVALID"),
        (["settlementId"], "NOT_FOUND"),
        (["appointmentDocument"], "FILE_TYPE_NOT_ALLOWED"),
    ]
    assert all(e["message"] for e in result["userErrors"])
    assert await count(session, Attachment) == 0


async def test_a_contact_is_required(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    values = school_input(await settlement_id(session), phone=None, email="  ")
    result = payload(await register(gql, token, values))
    assert result["userErrors"] == [
        {"field": ["phone"], "code": "REQUIRED", "message": "Укажите телефон или электронную почту школы"}
    ]


async def test_a_temporary_account_may_not_register(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql, status=UserStatus.TEMPORARY)
    result = payload(await register(gql, token, school_input(await settlement_id(session))))
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(None, "ACCOUNT_NOT_CONFIRMED")]
    assert await count(session, School) == 0
    assert await count(session, Attachment) == 0


async def test_an_anonymous_user_may_not_register(gql: GraphQLClient, session: AsyncSession) -> None:
    response = await register(gql, None, school_input(await settlement_id(session)))
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count(session, School) == 0


async def test_multipart_without_the_csrf_header_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await signed_in_user(session, gql)
    response = await register(gql, token, school_input(await settlement_id(session)), csrf_header=False)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "CSRF_HEADER_REQUIRED"}
    assert await count(session, School) == 0


async def test_a_pending_school_is_hidden_from_others(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a pending registration
    _, token = await signed_in_user(session, gql)
    school = payload(await register(gql, token, school_input(await settlement_id(session))))["school"]
    _, stranger = await signed_in_user(session, gql, email="stranger@example.ru")
    query = "query($id: ID!) { school(id: $id) { shortName } node(id: $id) { id } }"
    # then the registrant sees it, a stranger and an anonymous client do not
    assert (await gql.data(query, {"id": school["id"]}, token=token))["school"] == {"shortName": "МБОУ Гимназия № 17"}
    for who in (stranger, None):
        assert await gql.data(query, {"id": school["id"]}, token=who) == {"school": None, "node": None}
    rows = (await session.scalars(select(School.status))).all()
    assert rows == [SchoolStatus.PENDING]
