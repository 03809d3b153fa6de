"""reviewSchool over real HTTP: an operator approves or rejects a registration."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import LaunchMode, NotificationKind, SchoolStatus, StaffBindingStatus
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import School, StaffBinding
from tests.factories import make_academic_year, make_operator, make_school, make_school_admin, make_teacher
from tests.graphql.test_register_school import PASSWORD, payload, register, school_input, settlement_id, signed_in_user
from tests.support import GraphQLClient

REVIEW = """mutation($i: ReviewSchoolInput!) {
  reviewSchool(input: $i) {
    school { id status launchMode diaryUid rejectionReason reviewedAt }
    userErrors { field code message }
  }
}"""
ME = "{ me { memberships { schoolId role } } }"
CREATE_CLASS = """mutation($i: CreateClassInput!) {
  createClass(input: $i) { schoolClass { id } userErrors { field code message } }
}"""


async def review(
    gql: GraphQLClient, token: str | None, school_gid: str, decision: str, reason: str | None = None
) -> dict[str, Any]:
    return await gql.post(REVIEW, {"i": {"schoolId": school_gid, "decision": decision, "reason": reason}}, token=token)


def result(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]["reviewSchool"]
    return data


async def operator_token(session: AsyncSession, gql: GraphQLClient, email: str = "operator@example.ru") -> str:
    await make_operator(session, email=email, password=PASSWORD)
    await session.commit()
    return await gql.sign_in(email, PASSWORD)


async def registered(session: AsyncSession, gql: GraphQLClient) -> tuple[int, str, str]:
    """A pending registration: (registrant id, registrant's token, school global id)."""
    user_id, token = await signed_in_user(session, gql)
    school = payload(await register(gql, token, school_input(await settlement_id(session))))["school"]
    return user_id, token, school["id"]


async def _inbox(session: AsyncSession, user_id: int) -> list[Notification]:
    return list(await session.scalars(select(Notification).where(Notification.user_id == user_id)))


async def test_approval_activates_the_school_and_makes_the_registrant_its_admin(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a pending registration and an operator
    user_id, token, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    # when the operator approves it
    decided = result(await review(gql, operator, school_gid, "APPROVE"))
    # then the school is ACTIVE in test launch, with a diary UID of its region
    assert decided["userErrors"] == []
    school = decided["school"]
    assert school["status"] == "ACTIVE"
    assert school["launchMode"] == "TEST"
    assert re.fullmatch(r"ED-50-[2-9A-Z]{4}-[2-9A-Z]{4}", school["diaryUid"])
    assert school["reviewedAt"] is not None
    assert school["rejectionReason"] is None
    # and the registrant is its SCHOOL_ADMIN from her next request on
    me = await gql.data(ME, token=token)
    assert me["me"]["memberships"] == [{"schoolId": school_gid, "role": "SCHOOL_ADMIN"}]
    binding = (await session.scalars(select(StaffBinding))).one()
    assert binding.status == StaffBindingStatus.ACTIVE
    # and she was told, with the diary UID
    [note] = await _inbox(session, user_id)
    assert note.kind == NotificationKind.SCHOOL_STATUS
    assert school["diaryUid"] in note.body
    # and the decision is audited
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "reviewSchool"))).one()
    assert entry.before == {"status": "PENDING"}
    assert entry.after is not None
    assert (entry.after["status"], entry.after["decision"]) == ("ACTIVE", "APPROVE")


async def test_the_new_admin_can_set_the_school_up(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an approved registration
    _, token, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    assert result(await review(gql, operator, school_gid, "APPROVE"))["userErrors"] == []
    school_id = int((await session.scalars(select(School.id))).one())
    year = await make_academic_year(session, school_id=school_id)
    await session.commit()
    # when the registrant creates a class
    variables = {
        "i": {"schoolId": school_gid, "academicYearId": to_base64("AcademicYear", year.id), "level": 5, "letter": "А"}
    }
    created = (await gql.data(CREATE_CLASS, variables, token=token))["createClass"]
    # then she may: she is the school's admin
    assert created["userErrors"] == []
    assert created["schoolClass"]["id"]


async def test_rejection_needs_a_reason_and_tells_the_registrant(gql: GraphQLClient, session: AsyncSession) -> None:
    user_id, token, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    # a rejection without a reason is refused
    refused = result(await review(gql, operator, school_gid, "REJECT", "  "))
    assert refused["userErrors"] == [{"field": ["reason"], "code": "REQUIRED", "message": "Укажите причину отказа"}]
    # with a reason, the school is REJECTED
    decided = result(await review(gql, operator, school_gid, "REJECT", "Приказ не подписан"))
    assert decided["userErrors"] == []
    assert decided["school"]["status"] == "REJECTED"
    assert decided["school"]["diaryUid"] is None
    assert decided["school"]["rejectionReason"] == "Приказ не подписан"
    # and the registrant is told why, and sees the reason; she holds no role
    [note] = await _inbox(session, user_id)
    assert note.kind == NotificationKind.SCHOOL_STATUS
    assert "Приказ не подписан" in note.body
    query = "query($id: ID!) { school(id: $id) { status rejectionReason } }"
    assert (await gql.data(query, {"id": school_gid}, token=token))["school"] == {
        "status": "REJECTED",
        "rejectionReason": "Приказ не подписан",
    }
    assert (await gql.data(ME, token=token))["me"]["memberships"] == []
    binding = (await session.scalars(select(StaffBinding))).one()
    assert (binding.status, binding.reason) == (StaffBindingStatus.REJECTED, "Приказ не подписан")


async def test_only_a_pending_registration_can_be_reviewed(gql: GraphQLClient, session: AsyncSession) -> None:
    _, _, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    assert result(await review(gql, operator, school_gid, "APPROVE"))["userErrors"] == []
    again = result(await review(gql, operator, school_gid, "REJECT", "Передумали"))
    assert again["school"] is None
    assert again["userErrors"] == [
        {
            "field": ["schoolId"],
            "code": "INVALID_STATE",
            "message": "Регистрация уже рассмотрена: школа подключена (ACTIVE)",
        }
    ]


async def test_two_operators_deciding_at_once_one_wins(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a pending registration and two operators
    _, _, school_gid = await registered(session, gql)
    first = await operator_token(session, gql, "op1@example.ru")
    second = await operator_token(session, gql, "op2@example.ru")
    # when one approves while the other rejects
    bodies = await asyncio.gather(
        review(gql, first, school_gid, "APPROVE"), review(gql, second, school_gid, "REJECT", "Нет лицензии")
    )
    # then exactly one decision stands; the other is told it is no longer pending
    outcomes = [result(b) for b in bodies]
    winners = [o for o in outcomes if o["userErrors"] == []]
    losers = [o for o in outcomes if o["userErrors"]]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0]["userErrors"][0]["code"] == "INVALID_STATE"
    status = (await session.scalars(select(School.status))).one()
    assert status.value == winners[0]["school"]["status"]
    assert len(list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "reviewSchool")))) == 1


async def test_only_operators_review(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a pending registration, another school's admin and a teacher
    _, registrant, school_gid = await registered(session, gql)
    other = await make_school(session)
    await make_school_admin(session, school=other, email="admin@example.ru", password=PASSWORD)
    await make_teacher(session, school=other, email="teacher@example.ru", password=PASSWORD)
    await session.commit()
    tokens = [
        registrant,
        await gql.sign_in("admin@example.ru", PASSWORD),
        await gql.sign_in("teacher@example.ru", PASSWORD),
    ]
    # then none of them may decide, not even the registrant her own
    for token in tokens:
        body = await review(gql, token, school_gid, "APPROVE")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["errors"][0]["message"] == "Регистрацию школы проверяет оператор портала"
    body = await review(gql, None, school_gid, "APPROVE")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await session.scalars(select(School.status).where(School.id != other.id))).one() == SchoolStatus.PENDING


async def test_the_registration_request_is_not_decided_on_its_own(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a pending registration: its SCHOOL_ADMIN request is in the operators' queue
    _, _, _ = await registered(session, gql)
    operator = await operator_token(session, gql)
    binding_id = int((await session.scalars(select(StaffBinding.id))).one())
    # when an operator tries to approve the request without the school
    body = await gql.post(
        "mutation($i: ReviewStaffBindingInput!) { reviewStaffBinding(input: $i) { userErrors { field code } } }",
        {"i": {"bindingId": to_base64("StaffBinding", binding_id), "decision": "APPROVE"}},
        token=operator,
    )
    # then it is refused: it is decided with the registration
    assert body["data"]["reviewStaffBinding"]["userErrors"] == [{"field": ["bindingId"], "code": "INVALID_STATE"}]


async def test_the_operator_sees_the_appointment_document_others_do_not(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a registration, approved and opened to parents, with a teacher of the school
    _, registrant, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    assert result(await review(gql, operator, school_gid, "APPROVE"))["userErrors"] == []
    school = (await session.scalars(select(School))).one()
    school.launch_mode = LaunchMode.OPEN
    await make_teacher(session, school=school, email="teacher@example.ru", password=PASSWORD)
    await session.commit()
    teacher = await gql.sign_in("teacher@example.ru", PASSWORD)
    query = """query($id: ID!) { school(id: $id) {
      shortName reviewedAt rejectionReason registeredBy { id } appointmentDocument { fileName }
    } }"""
    # then the operator and the registrant see how it was decided and on what
    for viewer in (operator, registrant):
        seen = (await gql.data(query, {"id": school_gid}, token=viewer))["school"]
        assert seen["reviewedAt"] is not None
        assert seen["registeredBy"] is not None
        assert seen["appointmentDocument"] == {"fileName": "Приказ о назначении директора.pdf"}
    # and the school's teacher and the public see the school, but none of that
    for other in (teacher, None):
        seen = (await gql.data(query, {"id": school_gid}, token=other))["school"]
        assert seen == {
            "shortName": "МБОУ Гимназия № 17",
            "reviewedAt": None,
            "rejectionReason": None,
            "registeredBy": None,
            "appointmentDocument": None,
        }


async def test_a_new_school_starts_with_the_default_control_types(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a registration approved by an operator
    _, token, school_gid = await registered(session, gql)
    operator = await operator_token(session, gql)
    assert result(await review(gql, operator, school_gid, "APPROVE"))["userErrors"] == []
    # when its new admin reads the school's control types
    query = "query($id: ID!) { school(id: $id) { controlTypes { code name weight isDefault } } }"
    found = (await gql.data(query, {"id": school_gid}, token=token))["school"]["controlTypes"]
    # then they are the defaults, with their weights
    assert found == [
        {"code": "CHECK", "name": "Проверочная работа", "weight": 1.5, "isDefault": True},
        {"code": "HOMEWORK", "name": "Домашняя работа", "weight": 1.0, "isDefault": True},
        {"code": "ORAL", "name": "Устный ответ", "weight": 1.0, "isDefault": True},
        {"code": "QUIZ", "name": "Самостоятельная работа", "weight": 1.5, "isDefault": True},
        {"code": "TEST", "name": "Контрольная работа", "weight": 2.0, "isDefault": True},
    ]
