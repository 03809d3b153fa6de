"""reviewStaffBinding over real HTTP: who decides, what approval grants, races."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import NotificationKind, StaffBindingStatus, StaffRole
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import School, StaffBinding, StaffMembership
from ediary_gql.db.models.users import User
from tests.factories import (
    make_operator,
    make_school,
    make_school_admin,
    make_staff_binding,
    make_staff_membership,
    make_teacher,
    make_user,
)
from tests.graphql.test_request_staff_binding import payload, request_binding
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
REVIEW = """mutation($i: ReviewStaffBindingInput!) {
  reviewStaffBinding(input: $i) {
    staffBinding { id status reason decidedAt role user { fullName } school { shortName } }
    userErrors { field code message }
  }
}"""
ME = "{ me { memberships { schoolId role } } }"
QUEUE = "{ staffBindings { totalCount nodes { id status } } }"


async def review(
    gql: GraphQLClient, token: str | None, binding_id: int, decision: str, reason: str | None = None
) -> dict[str, Any]:
    variables = {"i": {"bindingId": to_base64("StaffBinding", binding_id), "decision": decision, "reason": reason}}
    return await gql.post(REVIEW, variables, token=token)


def result(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]["reviewStaffBinding"]
    return data


async def _school_with_admin(session: AsyncSession, email: str = "admin@example.ru") -> tuple[School, User]:
    school = await make_school(session)
    admin = await make_school_admin(session, school=school, email=email, password=PASSWORD)
    return school, admin


async def _pending(
    session: AsyncSession, school: School, role: StaffRole = StaffRole.TEACHER, email: str = "olga@example.ru"
) -> tuple[User, StaffBinding]:
    requester = await make_user(session, email=email, password=PASSWORD)
    binding = await make_staff_binding(session, user_id=requester.id, school_id=school.id, role=role)
    return requester, binding


async def _inbox(session: AsyncSession, user_id: int) -> list[Notification]:
    rows = await session.scalars(select(Notification).where(Notification.user_id == user_id))
    return list(rows)


async def test_a_teacher_request_goes_from_pdf_to_active_membership(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an active school with its admin, and a confirmed user
    school, _ = await _school_with_admin(session)
    olga = await make_user(session, email="olga@example.ru", password=PASSWORD)
    await session.commit()
    olga_token = await gql.sign_in("olga@example.ru", PASSWORD)
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)
    assert (await gql.data(ME, token=olga_token))["me"]["memberships"] == []

    # when she asks to teach there with a PDF, and the school's admin approves
    requested = payload(await request_binding(gql, olga_token, school.inn))
    assert requested["userErrors"] == []
    binding_gid = requested["staffBinding"]["id"]
    queue = (await gql.data(QUEUE, token=admin_token))["staffBindings"]
    assert queue["nodes"] == [{"id": binding_gid, "status": "PENDING"}]
    binding_id = int((await session.scalars(select(StaffBinding.id))).one())
    decided = result(await review(gql, admin_token, binding_id, "APPROVE"))

    # then the request is ACTIVE and she is a teacher of the school from her next request on
    assert decided["userErrors"] == []
    assert decided["staffBinding"]["status"] == "ACTIVE"
    assert decided["staffBinding"]["decidedAt"] is not None
    assert decided["staffBinding"]["reason"] is None
    me = await gql.data(ME, token=olga_token)
    assert me["me"]["memberships"] == [{"schoolId": to_base64("School", school.id), "role": "TEACHER"}]
    mine = await gql.data("{ myStaffBindings { nodes { id status } } }", token=olga_token)
    assert mine["myStaffBindings"]["nodes"] == [{"id": binding_gid, "status": "ACTIVE"}]
    # and she was told, naming the school
    [note] = await _inbox(session, olga.id)
    assert note.kind == NotificationKind.STAFF_BINDING
    assert school.short_name in note.body
    assert "одобрена" in note.body
    # and the decision is audited
    entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "reviewStaffBinding"))).one()
    assert entry.entity_id == binding_id
    assert entry.school_id == school.id
    assert entry.before == {"status": "PENDING"}
    assert entry.after == {"status": "ACTIVE", "decision": "APPROVE", "reason": None}


async def test_a_first_school_admin_is_decided_by_an_operator(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school with no admin yet and a request to become its admin
    school = await make_school(session)
    _, binding = await _pending(session, school, StaffRole.SCHOOL_ADMIN)
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    requester_token = await gql.sign_in("olga@example.ru", PASSWORD)
    operator_token = await gql.sign_in("operator@example.ru", PASSWORD)
    before = await gql.post(QUEUE, token=requester_token)
    assert before["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # when an operator approves it
    decided = result(await review(gql, operator_token, binding.id, "APPROVE"))

    # then she administers the school: with the same token, her next request sees its queue
    assert decided["userErrors"] == []
    assert decided["staffBinding"]["status"] == "ACTIVE"
    me = await gql.data(ME, token=requester_token)
    assert me["me"]["memberships"] == [{"schoolId": to_base64("School", school.id), "role": "SCHOOL_ADMIN"}]
    queue = await gql.data(QUEUE, token=requester_token)
    assert queue["staffBindings"]["totalCount"] == 1  # her own, now decided


async def test_a_rejection_needs_a_reason_and_tells_it(gql: GraphQLClient, session: AsyncSession) -> None:
    school, _ = await _school_with_admin(session)
    olga, binding = await _pending(session, school)
    await session.commit()
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)

    no_reason = result(await review(gql, admin_token, binding.id, "REJECT", reason="   "))
    assert no_reason == {
        "staffBinding": None,
        "userErrors": [{"field": ["reason"], "code": "REQUIRED", "message": "Укажите причину отказа"}],
    }

    rejected = result(await review(gql, admin_token, binding.id, "REJECT", reason="Приказ без подписи"))
    assert rejected["userErrors"] == []
    assert rejected["staffBinding"]["status"] == "REJECTED"
    assert rejected["staffBinding"]["reason"] == "Приказ без подписи"
    [note] = await _inbox(session, olga.id)
    assert "отклонена" in note.body
    assert "Приказ без подписи" in note.body
    assert school.short_name in note.body
    memberships = await session.scalars(select(StaffMembership).where(StaffMembership.user_id == olga.id))
    assert list(memberships) == []


async def test_deciding_twice_is_refused_naming_the_status(gql: GraphQLClient, session: AsyncSession) -> None:
    school, _ = await _school_with_admin(session)
    _, binding = await _pending(session, school)
    await session.commit()
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)
    assert result(await review(gql, admin_token, binding.id, "APPROVE"))["userErrors"] == []

    again = result(await review(gql, admin_token, binding.id, "REJECT", reason="Передумали"))
    assert again["userErrors"] == [
        {
            "field": ["bindingId"],
            "code": "INVALID_STATE",
            "message": "Заявка уже рассмотрена: статус «одобрена» (ACTIVE)",
        }
    ]


async def test_two_reviewers_at_once_exactly_one_wins(gql: GraphQLClient, session: AsyncSession) -> None:
    # given two admins of the same school and one pending teacher request
    school, _ = await _school_with_admin(session, "admin1@example.ru")
    await make_school_admin(session, school=school, email="admin2@example.ru", password=PASSWORD)
    olga, binding = await _pending(session, school)
    await session.commit()
    first = await gql.sign_in("admin1@example.ru", PASSWORD)
    second = await gql.sign_in("admin2@example.ru", PASSWORD)

    # when both decide at the same moment, differently
    outcomes = await asyncio.gather(
        review(gql, first, binding.id, "APPROVE"),
        review(gql, second, binding.id, "REJECT", reason="Нет вакансии"),
    )

    # then exactly one decision stands, the other is told the request is no longer pending
    results = [result(body) for body in outcomes]
    winners = [r for r in results if r["staffBinding"] is not None]
    losers = [r for r in results if r["staffBinding"] is None]
    assert len(winners) == 1
    assert len(losers) == 1
    assert [e["code"] for e in losers[0]["userErrors"]] == ["INVALID_STATE"]
    stored = await session.get(StaffBinding, binding.id, populate_existing=True)
    assert stored is not None
    assert stored.status.value == winners[0]["staffBinding"]["status"]
    assert len(await _inbox(session, olga.id)) == 1
    members = list(await session.scalars(select(StaffMembership).where(StaffMembership.user_id == olga.id)))
    assert len(members) == (1 if stored.status == StaffBindingStatus.ACTIVE else 0)


async def test_approval_reactivates_a_former_membership(gql: GraphQLClient, session: AsyncSession) -> None:
    school, _ = await _school_with_admin(session)
    olga, binding = await _pending(session, school)
    former = await make_staff_membership(session, user_id=olga.id, school_id=school.id, active=False)
    await session.commit()
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)
    assert result(await review(gql, admin_token, binding.id, "APPROVE"))["userErrors"] == []
    rows = list(
        await session.scalars(
            select(StaffMembership).where(StaffMembership.user_id == olga.id).execution_options(populate_existing=True)
        )
    )
    assert [(row.id, row.active) for row in rows] == [(former.id, True)]


async def test_who_may_not_decide(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a pending teacher request at a school, and people around it
    school, _ = await _school_with_admin(session)
    _, binding = await _pending(session, school)
    await _school_with_admin(session, "other-admin@example.ru")
    await make_teacher(session, school=school, email="teacher@example.ru", password=PASSWORD)
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    tokens = {
        email: await gql.sign_in(email, PASSWORD)
        for email in ("other-admin@example.ru", "teacher@example.ru", "olga@example.ru", "operator@example.ru")
    }
    not_found = [{"field": ["bindingId"], "code": "NOT_FOUND", "message": "Заявка не найдена"}]

    # the admin of another school and a teacher of this one do not even see it
    for email in ("other-admin@example.ru", "teacher@example.ru"):
        assert result(await review(gql, tokens[email], binding.id, "APPROVE"))["userErrors"] == not_found
    # the requester sees it but may not decide her own request
    own = await review(gql, tokens["olga@example.ru"], binding.id, "APPROVE")
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert own["errors"][0]["message"] == "Нельзя рассматривать собственную заявку"
    # an operator sees it, but teacher requests are the school admin's to decide
    operator = await review(gql, tokens["operator@example.ru"], binding.id, "APPROVE")
    assert operator["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # an anonymous caller is asked to sign in
    anonymous = await review(gql, None, binding.id, "APPROVE")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # and nothing changed
    stored = await session.get(StaffBinding, binding.id, populate_existing=True)
    assert stored is not None
    assert stored.status == StaffBindingStatus.PENDING


async def test_a_school_admin_may_not_decide_an_admin_request(gql: GraphQLClient, session: AsyncSession) -> None:
    school, _ = await _school_with_admin(session)
    _, binding = await _pending(session, school, StaffRole.SCHOOL_ADMIN)
    await session.commit()
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)
    body = await review(gql, admin_token, binding.id, "APPROVE")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "Эту заявку рассматривает оператор портала"


async def test_an_id_of_another_type_is_invalid(gql: GraphQLClient, session: AsyncSession) -> None:
    _, admin = await _school_with_admin(session)
    await session.commit()
    admin_token = await gql.sign_in("admin@example.ru", PASSWORD)
    variables = {"i": {"bindingId": to_base64("User", admin.id), "decision": "APPROVE"}}
    body = await gql.data(REVIEW, variables, token=admin_token)
    assert [e["code"] for e in body["reviewStaffBinding"]["userErrors"]] == ["INVALID"]
