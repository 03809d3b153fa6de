"""Schools: registration by a confirmed user, verification by an operator, the
test launch and opening to parents, and search.

A registration is a PENDING school plus a PENDING SCHOOL_ADMIN staff binding
of the registrant holding the appointment document, so the document is kept
(and shown to operators) exactly as for any request to act for a school.
Approval activates the school (diary UID issued, test launch), the binding
and the registrant's SCHOOL_ADMIN membership in one transaction; rejection
keeps the reason on both. The registrant is notified either way.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import (
    LaunchMode,
    NotificationKind,
    SchoolStatus,
    SchoolType,
    StaffBindingStatus,
    StaffDocumentKind,
    StaffRole,
)
from ediary_gql.db.models.geo import Settlement, normalize_name
from ediary_gql.db.models.schools import School, StaffBinding
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import audit, notifications, requisites
from ediary_gql.services.attachments import UploadedFile, collect_attachment
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.directory import WORD_SEPARATORS, escape_like, normalize_query, word_prefix_match
from ediary_gql.services.staff_bindings import add_pending_binding, grant_membership
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

MAX_FULL_NAME = 500
MAX_SHORT_NAME = 200
MAX_ADDRESS = 500
MAX_WEBSITE = 254
MAX_REASON = 1000
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
# Diary UIDs: no 0/O, 1/I/L, 5/S lookalikes, so they can be read out over the phone.
UID_ALPHABET = "2346789ABCDEFGHJKMNPQRTUVWXYZ"

STATUS_NAMES = {
    SchoolStatus.PENDING: "на проверке",
    SchoolStatus.ACTIVE: "подключена",
    SchoolStatus.REJECTED: "отклонена",
}
LAUNCH_NAMES = {LaunchMode.TEST: "тестовый запуск", LaunchMode.OPEN: "открыта для родителей"}


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class SchoolRegistration:
    full_name: str
    short_name: str
    type: SchoolType
    inn: str
    okpo: str
    address: str
    settlement_id: int
    kpp: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class SchoolFilter:
    query: str | None = None
    region_code: str | None = None
    settlement_id: int | None = None
    status: SchoolStatus | None = None
    type: SchoolType | None = None


def _text(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _required_text(errors: ErrorCollector, field: str, value: str | None, limit: int, what: str) -> str | None:
    text = _text(value)
    if text is None:
        errors.add(field, ErrorCode.REQUIRED, f"Укажите {what}")
    elif len(text) > limit:
        errors.add(field, ErrorCode.TOO_LONG, f"Не длиннее {limit} символов")
    return text


def _website(value: str | None) -> str:
    text = (value or "").strip()
    if "://" not in text:
        text = "https://" + text
    if len(text) > MAX_WEBSITE or not _WEBSITE.match(text):
        raise DomainError(ErrorCode.INVALID, "Укажите адрес сайта, например https://school.example.ru", field="website")
    return text


# --- registration -----------------------------------------------------------------


async def register_school(
    session: AsyncSession,
    *,
    actor: Actor,
    data: SchoolRegistration,
    document: UploadedFile,
    storage: Storage,
    settings: Settings,
) -> School:
    """A PENDING school registered by `actor`, with the appointment document kept in a
    PENDING SCHOOL_ADMIN staff binding. Every bad value is reported at once."""
    policy.require_may_register_school(actor)
    errors = ErrorCollector()
    full_name = _required_text(errors, "fullName", data.full_name, MAX_FULL_NAME, "полное наименование")
    short_name = _required_text(errors, "shortName", data.short_name, MAX_SHORT_NAME, "краткое наименование")
    address = _required_text(errors, "address", data.address, MAX_ADDRESS, "адрес")
    inn = errors.check(lambda: requisites.normalize_company_inn(data.inn, field="inn"))
    okpo = errors.check(lambda: requisites.normalize_okpo(data.okpo, field="okpo"))
    kpp = errors.check(lambda: requisites.normalize_kpp(data.kpp, field="kpp"))
    phone = errors.check(lambda: normalize_phone(data.phone or "", field="phone")) if _text(data.phone) else None
    email = errors.check(lambda: normalize_email(data.email or "", field="email")) if _text(data.email) else None
    website = errors.check(lambda: _website(data.website)) if _text(data.website) else None
    if not _text(data.phone) and not _text(data.email):
        errors.add("phone", ErrorCode.REQUIRED, "Укажите телефон или электронную почту школы")
    if await session.get(Settlement, data.settlement_id) is None:
        errors.add("settlementId", ErrorCode.NOT_FOUND, "Населённый пункт не найден в справочнике")
    if inn is not None and await _inn_taken(session, inn):
        errors.add("inn", ErrorCode.DUPLICATE, "Школа с таким ИНН уже зарегистрирована")

    # The file is checked even when other fields are wrong, so every problem is told at once.
    attachment = await collect_attachment(
        session,
        errors,
        actor=actor,
        upload_name=document.name,
        stream=document.stream,
        storage=storage,
        settings=settings,
        field="appointmentDocument",
    )
    errors.raise_if_any()
    if not (full_name and short_name and address and inn and okpo and attachment):  # not reached: errors above
        raise DomainError(ErrorCode.INVALID, "Школа не может быть зарегистрирована")

    school = School(
        full_name=full_name,
        short_name=short_name,
        name_normalized=normalize_name(f"{full_name} {short_name}"),
        type=data.type,
        inn=inn,
        okpo=okpo,
        kpp=kpp,
        address=address,
        settlement_id=data.settlement_id,
        phone=phone,
        email=email,
        website=website,
        status=SchoolStatus.PENDING,
        launch_mode=LaunchMode.TEST,
        registered_by_id=actor.user_id or None,
    )
    try:
        # Of two registrations of one INN sent at once, the unique index lets one in.
        async with session.begin_nested():
            session.add(school)
            await session.flush()
    except IntegrityError:
        raise DomainError(ErrorCode.DUPLICATE, "Школа с таким ИНН уже зарегистрирована", field="inn") from None
    binding = await add_pending_binding(
        session,
        user_id=actor.user_id,
        school_id=school.id,
        role=StaffRole.SCHOOL_ADMIN,
        document_id=attachment.id,
        document_kind=StaffDocumentKind.APPOINTMENT_ORDER,
    )
    audit.record(
        session,
        actor=actor,
        action="registerSchool",
        entity_type="School",
        entity_id=school.id,
        school_id=school.id,
        after={**_snapshot(school), "appointmentDocumentId": attachment.id, "staffBindingId": binding.id},
    )
    return school


async def _inn_taken(session: AsyncSession, inn: str) -> bool:
    return await session.scalar(select(School.id).where(School.inn == inn).limit(1)) is not None


def _snapshot(school: School) -> dict[str, Any]:
    return {
        "fullName": school.full_name,
        "shortName": school.short_name,
        "type": SchoolType(school.type).value,
        "inn": school.inn,
        "okpo": school.okpo,
        "kpp": school.kpp,
        "address": school.address,
        "settlementId": school.settlement_id,
        "phone": school.phone,
        "email": school.email,
        "website": school.website,
        "status": SchoolStatus(school.status).value,
        "launchMode": LaunchMode(school.launch_mode).value,
    }


# --- verification -----------------------------------------------------------------


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


async def _visible_school(session: AsyncSession, actor: Actor, school_id: int) -> School:
    school = await session.get(School, school_id)
    if school is None or not policy.can_view_school(
        actor,
        school.id,
        is_active=school.status == SchoolStatus.ACTIVE,
        is_open=school.launch_mode == LaunchMode.OPEN,
        registered_by_id=school.registered_by_id,
    ):
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="schoolId")
    return school


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
    reason = _text(reason)
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


# --- test launch → open to parents ------------------------------------------------


async def open_school(session: AsyncSession, *, actor: Actor, school_id: int) -> School:
    """End the test launch: the school is offered to parents from now on."""
    school = await _visible_school(session, actor, school_id)
    if not policy.can_open_school(actor, school.id):
        raise forbidden("Открыть школу для родителей может ответственный за дневник школы или оператор")
    if school.status != SchoolStatus.ACTIVE:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"Открыть можно только подключённую школу; сейчас она {STATUS_NAMES[SchoolStatus(school.status)]}",
            field="schoolId",
        )
    now = utcnow()
    result = await session.execute(
        update(School)
        .where(School.id == school.id, School.launch_mode == LaunchMode.TEST)
        .values(launch_mode=LaunchMode.OPEN, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise DomainError(ErrorCode.INVALID_STATE, "Школа уже открыта для родителей", field="schoolId")
    await session.refresh(school)
    audit.record(
        session,
        actor=actor,
        action="openSchool",
        entity_type="School",
        entity_id=school.id,
        school_id=school.id,
        before={"launchMode": LaunchMode.TEST.value},
        after={"launchMode": LaunchMode.OPEN.value},
    )
    return school


# --- search -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolSearch:
    """A search as a statement with its keyset: `key` columns and `key_of(row)` values."""

    stmt: Select[School]
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]]
    key_of: Callable[[School], list[Any]]


def _inn_of(query: str) -> str | None:
    digits = query.replace(" ", "")
    return digits if digits.isdigit() else None


def relevance_of(school: School, query: str) -> int:
    """0: the INN is the query; 1: the full name starts with it; 2: a word of the full or
    short name does; 3: the name contains it. Mirrors `_relevance` for cursors."""
    name = school.name_normalized
    if school.inn == _inn_of(query):
        return 0
    if name.startswith(query):
        return 1
    if any(sep + query in name for sep in WORD_SEPARATORS):
        return 2
    return 3


def _relevance(query: str) -> ColumnElement[int]:
    inn = _inn_of(query)
    whens: list[tuple[ColumnElement[bool], int]] = []
    if inn is not None:
        whens.append((School.inn == inn, 0))
    whens.append((School.name_normalized.like(f"{escape_like(query)}%", escape="\\"), 1))
    whens.append((word_prefix_match(School.name_normalized, query), 2))
    return case(*whens, else_=3)


def search_schools(actor: Actor | None, flt: SchoolFilter) -> SchoolSearch:
    """Schools the actor may find: the public directory (active, open to parents); also
    their own registrations and the schools they work at; every school for operators.
    Ordered by relevance to `query` (INN, name start, a word start, a fragment), then name."""
    stmt = select(School)
    scope = policy.school_search_scope(actor)
    public = and_(School.status == SchoolStatus.ACTIVE, School.launch_mode == LaunchMode.OPEN)
    if scope is not None:
        user_id, schools = scope
        stmt = stmt.where(
            or_(
                public,
                School.registered_by_id == user_id if user_id is not None else false(),
                School.id.in_(sorted(schools)) if schools else false(),
            )
        )
    if flt.status is not None:
        stmt = stmt.where(School.status == flt.status)
    if flt.type is not None:
        stmt = stmt.where(School.type == flt.type)
    if flt.settlement_id is not None:
        stmt = stmt.where(School.settlement_id == flt.settlement_id)
    if flt.region_code is not None:
        stmt = stmt.where(
            School.settlement_id.in_(select(Settlement.id).where(Settlement.region_code == flt.region_code.strip()))
        )
    query = normalize_query(flt.query, field="query")
    if query is None:
        return SchoolSearch(
            stmt=stmt,
            key=[School.name_normalized, School.id],
            key_of=lambda row: [row.name_normalized, row.id],
        )
    matches: list[ColumnElement[bool]] = [School.name_normalized.like(f"%{escape_like(query)}%", escape="\\")]
    inn = _inn_of(query)
    if inn is not None:
        matches.append(School.inn == inn)
    return SchoolSearch(
        stmt=stmt.where(or_(*matches)),
        key=[_relevance(query), School.name_normalized, School.id],
        key_of=lambda row: [relevance_of(row, query), row.name_normalized, row.id],
    )
