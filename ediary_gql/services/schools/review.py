"""Verification by an operator: approval (with a new diary UID) or rejection of a registration."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import LaunchMode, NotificationKind, SchoolStatus, StaffBindingStatus, StaffRole
from ediary_gql.db.models.geo import Settlement
from ediary_gql.db.models.schools import School, StaffBinding
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import audit, notifications
from ediary_gql.services.schools.registration import clean_text
from ediary_gql.services.schools.status_names import STATUS_NAMES
from ediary_gql.services.staff_bindings import grant_membership

MAX_REASON = 1000
# Diary UIDs: no 0/O, 1/I/L, 5/S lookalikes, so they can be read out over the phone.
UID_ALPHABET = "2346789ABCDEFGHJKMNPQRTUVWXYZ"


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


def new_diary_uid(region_code: str) -> str:
    """ED-77-7KQ3-M9XA: the region, then eight characters that cannot be misread."""
    chars = "".join(secrets.choice(UID_ALPHABET) for _ in range(8))
    return f"ED-{region_code}-{chars[:4]}-{chars[4:]}"


async def _unused_diary_uid(session: AsyncSession, region_code: str) -> str:
    while True:
        uid = new_diary_uid(region_code)
        if await session.scalar(select(School.id).where(School.diary_uid == uid)) is None:
            return uid


def _not_pending(status: SchoolStatus) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATE,
        f"Регистрация уже рассмотрена: школа {STATUS_NAMES[status]} ({status.value})",
        field="schoolId",
    )


async def review_school(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    decision: Decision,
    reason: str | None = None,
) -> School:
    """APPROVE (ACTIVE, diary UID, test launch, the registrant its SCHOOL_ADMIN) or REJECT
    (with a reason) a PENDING registration. Of two operators deciding at once, one wins."""
    if not policy.can_review_school(actor):
        raise forbidden("Регистрацию школы проверяет оператор портала")
    school = await session.get(School, school_id)
    if school is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="schoolId")
    errors = ErrorCollector()
    reason = clean_text(reason)
    if decision == Decision.REJECT and reason is None:
        errors.add("reason", ErrorCode.REQUIRED, "Укажите причину отказа")
    if reason and len(reason) > MAX_REASON:
        errors.add("reason", ErrorCode.TOO_LONG, f"Не длиннее {MAX_REASON} символов")
    if school.status != SchoolStatus.PENDING:
        errors.errors.extend(_not_pending(SchoolStatus(school.status)).errors)
    errors.raise_if_any()

    now = utcnow()
    values: dict[str, Any] = {"reviewed_by_id": actor.user_id or None, "reviewed_at": now, "updated_at": now}
    if decision == Decision.APPROVE:
        region_code = await session.scalar(select(Settlement.region_code).where(Settlement.id == school.settlement_id))
        values |= {
            "status": SchoolStatus.ACTIVE,
            "launch_mode": LaunchMode.TEST,
            "diary_uid": await _unused_diary_uid(session, region_code or "00"),
        }
    else:
        values |= {"status": SchoolStatus.REJECTED, "rejection_reason": reason}
    # Conditional on still being PENDING: of concurrent reviewers exactly one changes the row.
    result = await session.execute(
        update(School)
        .where(School.id == school.id, School.status == SchoolStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(School.status).where(School.id == school.id))
        raise _not_pending(SchoolStatus(current or SchoolStatus.PENDING))
    await session.refresh(school)

    await _decide_registration_binding(session, actor, school, now=now)
    if school.registered_by_id is not None:
        registrant = await session.get(User, school.registered_by_id)
        if registrant is not None:
            await _notify_registrant(session, registrant, school)
    audit.record(
        session,
        actor=actor,
        action="reviewSchool",
        entity_type="School",
        entity_id=school.id,
        school_id=school.id,
        before={"status": SchoolStatus.PENDING.value},
        after={
            "status": SchoolStatus(school.status).value,
            "decision": decision.value,
            "reason": reason,
            "diaryUid": school.diary_uid,
            "launchMode": LaunchMode(school.launch_mode).value,
        },
    )
    return school


async def _decide_registration_binding(
    session: AsyncSession, actor: Actor, school: School, *, now: dt.datetime
) -> None:
    """The registrant's pending SCHOOL_ADMIN request follows the school's fate."""
    if school.registered_by_id is None:
        return
    approved = school.status == SchoolStatus.ACTIVE
    await session.execute(
        update(StaffBinding)
        .where(
            StaffBinding.school_id == school.id,
            StaffBinding.user_id == school.registered_by_id,
            StaffBinding.role == StaffRole.SCHOOL_ADMIN,
            StaffBinding.status == StaffBindingStatus.PENDING,
        )
        .values(
            status=StaffBindingStatus.ACTIVE if approved else StaffBindingStatus.REJECTED,
            reason=None if approved else school.rejection_reason,
            decided_by_id=actor.user_id or None,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not approved:
        return
    await grant_membership(session, user_id=school.registered_by_id, school_id=school.id, role=StaffRole.SCHOOL_ADMIN)


async def _notify_registrant(session: AsyncSession, registrant: User, school: School) -> None:
    if school.status == SchoolStatus.ACTIVE:
        title = "Школа подключена к электронному дневнику"
        body = (
            f"Регистрация «{school.short_name}» одобрена. Идентификатор дневника: {school.diary_uid}. "
            "Вы назначены ответственным за дневник школы. Школа работает в режиме тестового запуска "
            "(только для сотрудников); откройте её для родителей, когда всё будет готово."
        )
    else:
        title = "Регистрация школы отклонена"
        body = f"Регистрация «{school.short_name}» отклонена. Причина: {school.rejection_reason}"
    await notifications.notify(
        session,
        user=registrant,
        kind=NotificationKind.SCHOOL_STATUS,
        title=title,
        body=body,
        payload={"schoolId": school.id, "status": SchoolStatus(school.status).value, "diaryUid": school.diary_uid},
    )
