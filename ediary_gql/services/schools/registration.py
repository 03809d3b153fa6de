"""Registration of a school by a confirmed user, with the checks of every field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus, SchoolType, StaffDocumentKind, StaffRole
from ediary_gql.db.models.geo import Settlement, normalize_name
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit, requisites
from ediary_gql.services.attachments import UploadedFile, collect_attachment
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.reports.templates import add_default_report_templates
from ediary_gql.services.school_setup.subjects import add_default_control_types
from ediary_gql.services.staff_bindings import add_pending_binding
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

MAX_FULL_NAME = 500
MAX_SHORT_NAME = 200
MAX_ADDRESS = 500
MAX_WEBSITE = 254
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)


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


def clean_text(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _required_text(errors: ErrorCollector, field: str, value: str | None, limit: int, what: str) -> str | None:
    text = clean_text(value)
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
    phone = errors.check(lambda: normalize_phone(data.phone or "", field="phone")) if clean_text(data.phone) else None
    email = errors.check(lambda: normalize_email(data.email or "", field="email")) if clean_text(data.email) else None
    website = errors.check(lambda: _website(data.website)) if clean_text(data.website) else None
    if not clean_text(data.phone) and not clean_text(data.email):
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
    await add_default_control_types(session, school_id=school.id)
    await add_default_report_templates(session, school_id=school.id)
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
