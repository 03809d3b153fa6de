"""Staff bindings: a confirmed user asks to act for a school in a role, with a
supporting document; an operator or the school's admin approves or rejects.

Approval creates (or re-activates) the `StaffMembership` in the same
transaction; the new role is effective from the member's next request, when
their actor is loaded again. The requester is notified either way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import (
    NotificationKind,
    SchoolStatus,
    StaffBindingStatus,
    StaffDocumentKind,
    StaffRole,
)
from ediary_gql.db.models.schools import School, StaffBinding, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import audit, notifications, requisites
from ediary_gql.services.attachments import UploadedFile, collect_attachment
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

MAX_COMMENT_LENGTH = 1000
MAX_REASON_LENGTH = 1000

ROLE_NAMES = {
    StaffRole.TEACHER: "учитель",
    StaffRole.SCHOOL_ADMIN: "администратор школы",
    StaffRole.INTEGRATOR: "интегратор",
}
STATUS_NAMES = {
    StaffBindingStatus.PENDING: "на рассмотрении",
    StaffBindingStatus.ACTIVE: "одобрена",
    StaffBindingStatus.REJECTED: "отклонена",
}


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class BindingRequest:
    school_inn: str
    role: StaffRole
    document_kind: StaffDocumentKind
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class BindingFilter:
    status: StaffBindingStatus | None = None
    school_id: int | None = None


def normalize_school_inn(raw: str, *, field: str = "schoolInn") -> str:
    """A legal entity's INN: 10 digits with a valid check digit (services/requisites.py)."""
    return requisites.normalize_company_inn(raw, field=field, empty_code=ErrorCode.INVALID)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# --- requesting -------------------------------------------------------------------


async def request_staff_binding(
    session: AsyncSession,
    *,
    actor: Actor,
    data: BindingRequest,
    document: UploadedFile,
    storage: Storage,
    settings: Settings,
) -> StaffBinding:
    """A PENDING request to act for the school with INN `data.school_inn` in `data.role`."""
    policy.require_may_request_staff_binding(actor)
    errors = ErrorCollector()
    comment = _text(data.comment)
    if comment and len(comment) > MAX_COMMENT_LENGTH:
        errors.add("comment", ErrorCode.TOO_LONG, f"Не длиннее {MAX_COMMENT_LENGTH} символов")

    school: School | None = None
    inn = errors.check(lambda: normalize_school_inn(data.school_inn))
    if inn is not None:
        school = (await session.scalars(select(School).where(School.inn == inn))).first()
        if school is None or school.status != SchoolStatus.ACTIVE:
            school = None
            errors.add("schoolInn", ErrorCode.NOT_FOUND, "Действующая школа с таким ИНН не найдена")
    if school is not None:
        await _lock_requester(session, actor)
        await _check_not_bound(session, errors, actor=actor, school=school, role=data.role)

    # The file is checked even when other fields are wrong, so every problem is told at once.
    attachment = await collect_attachment(
        session,
        errors,
        actor=actor,
        upload_name=document.name,
        stream=document.stream,
        storage=storage,
        settings=settings,
        field="document",
    )
    errors.raise_if_any()
    if school is None or attachment is None:  # not reached: without errors both are there
        raise DomainError(ErrorCode.INVALID, "Заявка не может быть создана")

    binding = await add_pending_binding(
        session,
        user_id=actor.user_id,
        school_id=school.id,
        role=data.role,
        document_id=attachment.id,
        document_kind=data.document_kind,
        comment=comment,
    )
    audit.record(
        session,
        actor=actor,
        action="requestStaffBinding",
        entity_type="StaffBinding",
        entity_id=binding.id,
        school_id=school.id,
        after={
            "role": data.role.value,
            "documentKind": data.document_kind.value,
            "documentId": attachment.id,
            "status": binding.status.value,
            "comment": comment,
        },
    )
    return binding


async def add_pending_binding(
    session: AsyncSession,
    *,
    user_id: int,
    school_id: int,
    role: StaffRole,
    document_id: int,
    document_kind: StaffDocumentKind,
    comment: str | None = None,
) -> StaffBinding:
    """A new PENDING request, added and flushed; the caller has checked the request."""
    binding = StaffBinding(
        user_id=user_id,
        school_id=school_id,
        role=role,
        document_id=document_id,
        document_kind=document_kind,
        comment=comment,
        status=StaffBindingStatus.PENDING,
    )
    session.add(binding)
    await session.flush()
    return binding


async def _lock_requester(session: AsyncSession, actor: Actor) -> None:
    """Serialise one user's requests, so two sent at once cannot both pass the duplicate
    check: a no-op UPDATE takes the user's row lock (PostgreSQL) or the write lock (SQLite)."""
    await session.execute(
        update(User)
        .where(User.id == actor.user_id)
        .values(updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )


async def _check_not_bound(
    session: AsyncSession, errors: ErrorCollector, *, actor: Actor, school: School, role: StaffRole
) -> None:
    pending = await session.scalar(
        select(StaffBinding.id)
        .where(
            StaffBinding.user_id == actor.user_id,
            StaffBinding.school_id == school.id,
            StaffBinding.role == role,
            StaffBinding.status == StaffBindingStatus.PENDING,
        )
        .limit(1)
    )
    if pending is not None:
        errors.add("role", ErrorCode.DUPLICATE, "Такая заявка в эту школу уже ждёт рассмотрения")
        return
    member = await session.scalar(
        select(StaffMembership.id).where(
            StaffMembership.user_id == actor.user_id,
            StaffMembership.school_id == school.id,
            StaffMembership.role == role,
            StaffMembership.active.is_(True),
        )
    )
    if member is not None:
        errors.add("role", ErrorCode.CONFLICT, f"У вас уже есть роль «{ROLE_NAMES[role]}» в этой школе")


# --- deciding ---------------------------------------------------------------------


async def review_staff_binding(
    session: AsyncSession,
    *,
    actor: Actor,
    binding_id: int,
    decision: Decision,
    reason: str | None = None,
) -> StaffBinding:
    """Approve or reject a PENDING request. Of two reviewers deciding at once, one
    wins; the other is told the request is no longer pending (INVALID_STATE)."""
    binding = await session.get(StaffBinding, binding_id)
    if binding is None or not policy.can_view_staff_binding(
        actor, requester_id=binding.user_id, school_id=binding.school_id
    ):
        raise DomainError(ErrorCode.NOT_FOUND, "Заявка не найдена", field="bindingId")
    if not policy.can_decide_staff_binding(
        actor, requester_id=binding.user_id, school_id=binding.school_id, role=binding.role
    ):
        if actor.user_id == binding.user_id:
            raise forbidden("Нельзя рассматривать собственную заявку")
        raise forbidden("Эту заявку рассматривает " + _decider_of(binding.role))

    errors = ErrorCollector()
    reason = _text(reason)
    if decision == Decision.REJECT and reason is None:
        errors.add("reason", ErrorCode.REQUIRED, "Укажите причину отказа")
    if reason and len(reason) > MAX_REASON_LENGTH:
        errors.add("reason", ErrorCode.TOO_LONG, f"Не длиннее {MAX_REASON_LENGTH} символов")
    if binding.status != StaffBindingStatus.PENDING:
        errors.add("bindingId", ErrorCode.INVALID_STATE, _already_decided(binding.status))
    elif await session.scalar(select(School.status).where(School.id == binding.school_id)) != SchoolStatus.ACTIVE:
        # a registrant's request is decided with the school's registration (reviewSchool)
        errors.add(
            "bindingId",
            ErrorCode.INVALID_STATE,
            "Школа ещё не подключена: заявка решается вместе с регистрацией школы (reviewSchool)",
        )
    errors.raise_if_any()

    now = utcnow()
    new_status = StaffBindingStatus.ACTIVE if decision == Decision.APPROVE else StaffBindingStatus.REJECTED
    # Conditional on still being PENDING: of concurrent reviewers exactly one changes the row.
    result = await session.execute(
        update(StaffBinding)
        .where(StaffBinding.id == binding.id, StaffBinding.status == StaffBindingStatus.PENDING)
        .values(status=new_status, reason=reason, decided_by_id=actor.user_id or None, decided_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(StaffBinding.status).where(StaffBinding.id == binding.id))
        raise DomainError(
            ErrorCode.INVALID_STATE,
            _already_decided(StaffBindingStatus(current or StaffBindingStatus.PENDING)),
            field="bindingId",
        )
    await session.refresh(binding)

    if new_status == StaffBindingStatus.ACTIVE:
        await grant_membership(session, user_id=binding.user_id, school_id=binding.school_id, role=binding.role)
    school = await session.get_one(School, binding.school_id)
    requester = await session.get_one(User, binding.user_id)
    await _notify_requester(session, requester, school, binding)
    audit.record(
        session,
        actor=actor,
        action="reviewStaffBinding",
        entity_type="StaffBinding",
        entity_id=binding.id,
        school_id=binding.school_id,
        before={"status": StaffBindingStatus.PENDING.value},
        after={"status": new_status.value, "decision": decision.value, "reason": reason},
    )
    return binding


async def grant_membership(session: AsyncSession, *, user_id: int, school_id: int, role: StaffRole) -> None:
    """Make (user, school, role) an active membership: created, or re-activated if it was ended."""
    membership = (
        await session.scalars(
            select(StaffMembership).where(
                StaffMembership.user_id == user_id,
                StaffMembership.school_id == school_id,
                StaffMembership.role == role,
            )
        )
    ).first()
    if membership is None:
        session.add(StaffMembership(user_id=user_id, school_id=school_id, role=role))
    else:
        membership.active = True
    await session.flush()


async def _notify_requester(session: AsyncSession, requester: User, school: School, binding: StaffBinding) -> None:
    role = ROLE_NAMES[binding.role]
    if binding.status == StaffBindingStatus.ACTIVE:
        title = "Заявка на роль в школе одобрена"
        body = f"Ваша заявка на роль «{role}» в «{school.short_name}» одобрена."
    else:
        title = "Заявка на роль в школе отклонена"
        body = f"Ваша заявка на роль «{role}» в «{school.short_name}» отклонена. Причина: {binding.reason}"
    await notifications.notify(
        session,
        user=requester,
        kind=NotificationKind.STAFF_BINDING,
        title=title,
        body=body,
        payload={"staffBindingId": binding.id, "schoolId": school.id, "status": binding.status.value},
    )


def _decider_of(role: StaffRole) -> str:
    return "оператор портала" if role == StaffRole.SCHOOL_ADMIN else "администратор школы"


def _already_decided(status: StaffBindingStatus) -> str:
    return f"Заявка уже рассмотрена: статус «{STATUS_NAMES[status]}» ({status.value})"


# --- reading ----------------------------------------------------------------------


def own_bindings_query(actor: Actor) -> Select[StaffBinding]:
    return select(StaffBinding).where(StaffBinding.user_id == actor.user_id)


def review_queue_query(actor: Actor, flt: BindingFilter) -> Select[StaffBinding]:
    """Requests the actor may review: every one for operators, their schools' for
    school admins; anyone else is refused."""
    scope = policy.staff_binding_review_scope(actor)
    if scope is not None and not scope:
        raise forbidden("Заявки на роли в школе видят операторы и администраторы школ")
    stmt = select(StaffBinding)
    if scope is not None:
        stmt = stmt.where(StaffBinding.school_id.in_(sorted(scope)))
    if flt.school_id is not None:
        stmt = stmt.where(StaffBinding.school_id == flt.school_id)
    if flt.status is not None:
        stmt = stmt.where(StaffBinding.status == flt.status)
    return stmt
