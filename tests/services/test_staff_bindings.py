"""Staff-binding workflows without GraphQL: the service functions over a session and an actor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ediary_gql.auth.actor import SYSTEM_ACTOR, Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import StaffBindingStatus, StaffDocumentKind, StaffRole, UserStatus
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import staff_bindings as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.settings import Settings
from ediary_gql.storage import LocalStorage
from tests.factories import make_school, make_staff_binding, make_user
from tests.sample_files import tiny_pdf


class Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1, /) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


def actor_of(user_id: int, **kw: object) -> Actor:
    return Actor(user_id=user_id, session_id=None, status=UserStatus.CONFIRMED, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["7707083893", " 7707 083 893 "])
def test_a_school_inn_is_ten_digits_with_a_check_digit(raw: str) -> None:
    assert service.normalize_school_inn(raw) == "7707083893"


@pytest.mark.parametrize("raw", ["7707083894", "770708389", "500100732259", "77070838ab", ""])
def test_other_inns_are_invalid(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        service.normalize_school_inn(raw)
    assert refused.value.errors[0].code == ErrorCode.INVALID
    assert refused.value.errors[0].field == ("schoolInn",)


async def test_request_then_approve_by_a_trusted_caller(
    app_services: AppServices, settings: Settings, tmp_path: Path
) -> None:
    # given a school and a user
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        school = await make_school(session)
        user = await make_user(session)
    # when the user asks to be its integrator, and the command line (system actor) approves
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        binding = await service.request_staff_binding(
            session,
            actor=actor_of(user.id),
            data=service.BindingRequest(
                school_inn=school.inn, role=StaffRole.INTEGRATOR, document_kind=StaffDocumentKind.SERVICE_CONTRACT
            ),
            document=UploadedFile(name="договор.pdf", stream=Bytes(tiny_pdf())),
            storage=LocalStorage(tmp_path),
            settings=settings,
        )
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        decided = await service.review_staff_binding(
            session, actor=SYSTEM_ACTOR, binding_id=binding.id, decision=service.Decision.APPROVE
        )
        member = (await session.scalars(select(StaffMembership).where(StaffMembership.user_id == user.id))).one()
    # then the binding is active, decided by nobody in particular, and the membership exists
    assert decided.status == StaffBindingStatus.ACTIVE
    assert decided.decided_by_id is None
    assert (member.school_id, member.role, member.active) == (school.id, StaffRole.INTEGRATOR, True)


async def test_a_reason_too_long_and_a_decided_request_are_told_together(app_services: AppServices) -> None:
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        binding = await make_staff_binding(session, status=StaffBindingStatus.REJECTED)
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            await service.review_staff_binding(
                session,
                actor=SYSTEM_ACTOR,
                binding_id=binding.id,
                decision=service.Decision.REJECT,
                reason="н" * 1001,
            )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        (("reason",), ErrorCode.TOO_LONG),
        (("bindingId",), ErrorCode.INVALID_STATE),
    ]


def test_the_review_queue_is_refused_to_non_reviewers() -> None:
    teacher = actor_of(5, memberships=frozenset({(1, StaffRole.TEACHER)}))
    with pytest.raises(DomainError) as refused:
        service.review_queue_query(teacher, service.BindingFilter())
    assert refused.value.code == ErrorCode.FORBIDDEN
    admin = actor_of(6, memberships=frozenset({(1, StaffRole.SCHOOL_ADMIN)}))
    assert "staff_bindings.school_id IN" in str(service.review_queue_query(admin, service.BindingFilter()))
    operator = actor_of(7, is_operator=True)
    assert "WHERE" not in str(service.review_queue_query(operator, service.BindingFilter()))
