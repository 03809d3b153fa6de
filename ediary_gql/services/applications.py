"""Parents' applications (заявки) for access to a child's diary.

A confirmed parent fills in a draft (child data, school and class, scans),
submits it (every field checked, all problems at once; a number and a due date
5 working days ahead), and the school's admin reviews it through the status
machine below. Approval makes the child record (or finds it), the guardianship
and the class enrolment in the same transaction. Every transition is kept in
the history, notifies the parent and is published after commit.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, false, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    ApplicationNumberCounter,
)
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import (
    ApplicationAction,
    ApplicationAttachmentKind,
    ApplicationStatus,
    LaunchMode,
    NotificationKind,
    SchoolStatus,
    Sex,
    StaffRole,
)
from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ApplicationStatusChanged
from ediary_gql.services import audit, notifications, requisites
from ediary_gql.services.attachments import UploadedFile, collect_attachment
from ediary_gql.services.production_calendar import load_calendar
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

S = ApplicationStatus
A = ApplicationAction

# --- the status machine: the one table of what may happen ------------------------

# (status, action) → the status after it. Review actions belong to the school's
# admin, SUBMIT and UPDATE to the applicant. EXTEND keeps the status (and may be
# taken once: see `_check_extend`).
TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationAction], ApplicationStatus] = {
    (S.DRAFT, A.UPDATE): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.NEEDS_CORRECTION, A.UPDATE): S.NEEDS_CORRECTION,
    (S.NEEDS_CORRECTION, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.EXTEND): S.SUBMITTED,
    (S.ACCEPTED, A.START_REVIEW): S.IN_REVIEW,
    (S.ACCEPTED, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.ACCEPTED, A.EXTEND): S.ACCEPTED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.IN_REVIEW, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.IN_REVIEW, A.EXTEND): S.IN_REVIEW,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
}
APPLICANT_ACTIONS = frozenset({A.UPDATE, A.SUBMIT})
REVIEW_ACTIONS = (A.ACCEPT, A.START_REVIEW, A.REQUEST_CORRECTION, A.EXTEND, A.APPROVE, A.REJECT)
FINAL_STATUSES = frozenset({S.APPROVED, S.REJECTED})
# Waiting for the school: these count towards the due date and can become overdue.
WITH_SCHOOL = frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_REVIEW})

DUE_WORKING_DAYS = 5
EXTENDED_DUE_WORKING_DAYS = 10
MAX_NAME_LENGTH = 100
MAX_COMMENT_LENGTH = 2000
MAX_ATTACHMENTS = 10
DEFAULT_TIMEZONE = "Europe/Moscow"
RUSSIA = "643"

STATUS_NAMES = {
    S.DRAFT: "черновик",
    S.SUBMITTED: "подана",
    S.ACCEPTED: "принята к рассмотрению",
    S.IN_REVIEW: "на проверке",
    S.NEEDS_CORRECTION: "требует исправления",
    S.APPROVED: "одобрена",
    S.REJECTED: "отклонена",
}
ACTION_NAMES = {
    A.CREATE: "создать",
    A.UPDATE: "изменить",
    A.SUBMIT: "подать",
    A.ACCEPT: "принять",
    A.START_REVIEW: "начать проверку",
    A.REQUEST_CORRECTION: "вернуть на исправление",
    A.EXTEND: "продлить срок",
    A.APPROVE: "одобрить",
    A.REJECT: "отклонить",
}


def next_status(status: ApplicationStatus, action: ApplicationAction) -> ApplicationStatus | None:
    """The status `action` leads to from `status`; None when the machine does not allow it."""
    return TRANSITIONS.get((status, action))


def _not_allowed(status: ApplicationStatus, action: ApplicationAction, field: str = "action") -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATE,
        f"Действие «{ACTION_NAMES[action]}» невозможно: заявка в статусе «{STATUS_NAMES[status]}» ({status.value})",
        field=field,
    )


# --- field checks -------------------------------------------------------------------

_CYRILLIC_NAME = re.compile(r"^[А-ЯЁа-яё]+(?:-[А-ЯЁа-яё]+)*$")
# A valid Roman numeral (1–3999), not empty.
_ROMAN = re.compile(r"^(?=[IVXLCM])M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_CERT_LETTERS = re.compile(r"^[А-ЯЁ]{2}$")
# Letters people type by mistake: Cyrillic look-alikes in the numeral, Latin ones in the letters.
_ROMAN_LOOKALIKES = str.maketrans({"Х": "X", "С": "C", "М": "M", "І": "I", "Ӏ": "I", "1": "I"})
_LETTER_LOOKALIKES = str.maketrans(
    {
        "A": "А",
        "B": "В",
        "E": "Е",
        "K": "К",
        "M": "М",
        "H": "Н",
        "O": "О",
        "P": "Р",
        "C": "С",
        "T": "Т",
        "X": "Х",
        "Y": "У",
    }
)
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})


def normalize_snils(raw: str, *, field: Sequence[str] = ("child", "snils")) -> str:
    """11 digits ("112-233-445 95" accepted) with a valid check number (services/requisites)."""
    return requisites.normalize_snils(raw, field=field)


def normalize_birth_cert_series(raw: str, *, field: Sequence[str] = ("child", "birthCertificate", "series")) -> str:
    """ "IV-АБ": a Roman numeral, a hyphen, two Cyrillic capitals. Look-alike letters typed
    in the wrong alphabet (Cyrillic Х/С/М/І in the numeral, Latin A/B/E/… in the letters),
    lower case, spaces and other dashes are corrected rather than refused."""
    value = "".join(raw.split()).translate(_DASHES).upper()
    numeral, dash, letters = value.partition("-")
    numeral = numeral.translate(_ROMAN_LOOKALIKES)
    letters = letters.translate(_LETTER_LOOKALIKES)
    if not dash or not _ROMAN.match(numeral) or not _CERT_LETTERS.match(letters):
        raise DomainError(
            ErrorCode.INVALID,
            "Серия свидетельства: римское число, дефис и две русские буквы, например IV-АБ",
            field=field,
        )
    return f"{numeral}-{letters}"


def normalize_birth_cert_number(raw: str, *, field: Sequence[str] = ("child", "birthCertificate", "number")) -> str:
    value = "".join(raw.split())
    if len(value) != 6 or not value.isdigit():
        raise DomainError(ErrorCode.INVALID, "Номер свидетельства: 6 цифр", field=field)
    return value


@lru_cache(maxsize=1)
def _oksm_codes() -> frozenset[str]:
    # loaded once, on first need; its fuzzy-search dependency warns about speed on import
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from allrucodes.oksm import OKSMCodes  # type: ignore[import-untyped]

    return frozenset(f"{int(code):03d}" for code in OKSMCodes().code2entities)


def normalize_citizenship(raw: str, *, field: Sequence[str] = ("child", "citizenship")) -> str:
    """A country by its OKSM digital code ("643" is Russia)."""
    value = raw.strip()
    if not (len(value) == 3 and value.isdigit() and value in _oksm_codes()):
        raise DomainError(ErrorCode.INVALID, "Гражданство: трёхзначный код страны по ОКСМ, например 643", field=field)
    return value


def _name(errors: ErrorCollector, path: tuple[str, ...], raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > MAX_NAME_LENGTH:
        errors.add(path, ErrorCode.TOO_LONG, f"Не длиннее {MAX_NAME_LENGTH} символов")
    elif not _CYRILLIC_NAME.match(value):
        errors.add(path, ErrorCode.INVALID, "Только русские буквы и дефис")
    return value


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# --- input ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildData:
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: dt.date | None = None
    sex: Sex | None = None
    snils: str | None = None
    birth_cert_series: str | None = None
    birth_cert_number: str | None = None
    birth_cert_issued_on: dt.date | None = None
    citizenship: str | None = None


@dataclass(frozen=True, slots=True)
class NewFile:
    kind: ApplicationAttachmentKind
    file: UploadedFile


@dataclass(frozen=True, slots=True)
class ApplicationData:
    """The whole form: a draft is saved as given (each field's format is checked when it
    is filled); `submit` requires what is still missing."""

    child: ChildData = field(default_factory=ChildData)
    region_code: str | None = None
    settlement_id: int | None = None
    school_id: int | None = None
    class_id: int | None = None


@dataclass(frozen=True, slots=True)
class Files:
    """What to do with the application's files in the same request."""

    add: Sequence[NewFile] = ()
    remove: Sequence[int] = ()  # attachment ids
    storage: Storage | None = None
    settings: Settings | None = None


def _check_child(errors: ErrorCollector, data: ChildData, today: dt.date) -> dict[str, Any]:
    """Column values of the child data, with every format problem added to `errors`."""
    c = ("child",)
    cert = ("child", "birthCertificate")
    values: dict[str, Any] = {
        "child_last_name": _name(errors, (*c, "lastName"), data.last_name),
        "child_first_name": _name(errors, (*c, "firstName"), data.first_name),
        "child_middle_name": _name(errors, (*c, "middleName"), data.middle_name),
        "child_birth_date": data.birth_date,
        "child_sex": data.sex,
        "child_snils": None,
        "birth_cert_series": None,
        "birth_cert_number": None,
        "birth_cert_issued_on": data.birth_cert_issued_on,
        "citizenship": RUSSIA,
    }
    if data.birth_date is not None:
        if data.birth_date > today:
            errors.add((*c, "birthDate"), ErrorCode.INVALID, "Дата рождения не может быть в будущем")
        elif data.birth_date < today.replace(year=today.year - 21, day=min(today.day, 28)):
            errors.add((*c, "birthDate"), ErrorCode.INVALID, "Ребёнку не может быть больше 20 лет")
    if data.birth_cert_issued_on is not None:
        if data.birth_cert_issued_on > today:
            errors.add((*cert, "issuedOn"), ErrorCode.INVALID, "Дата выдачи не может быть в будущем")
        elif data.birth_date is not None and data.birth_cert_issued_on < data.birth_date:
            errors.add((*cert, "issuedOn"), ErrorCode.INVALID, "Свидетельство не может быть выдано до рождения")
    if _text(data.snils):
        values["child_snils"] = errors.check(lambda: normalize_snils(data.snils or ""))
    if _text(data.birth_cert_series):
        values["birth_cert_series"] = errors.check(lambda: normalize_birth_cert_series(data.birth_cert_series or ""))
    if _text(data.birth_cert_number):
        values["birth_cert_number"] = errors.check(lambda: normalize_birth_cert_number(data.birth_cert_number or ""))
    if _text(data.citizenship):
        values["citizenship"] = errors.check(lambda: normalize_citizenship(data.citizenship or "")) or RUSSIA
    return values


def _child_columns(app: Application) -> dict[str, Any]:
    """The child's data as stored on the application, by the names Child and ChildData share."""
    return {
        "last_name": app.child_last_name,
        "first_name": app.child_first_name,
        "middle_name": app.child_middle_name,
        "birth_date": app.child_birth_date,
        "sex": app.child_sex,
        "snils": app.child_snils,
        "birth_cert_series": app.birth_cert_series,
        "birth_cert_number": app.birth_cert_number,
        "birth_cert_issued_on": app.birth_cert_issued_on,
        "citizenship": app.citizenship,
    }


async def _check_place(session: AsyncSession, errors: ErrorCollector, data: ApplicationData) -> dict[str, Any]:
    """Region → settlement → school (active, open to parents) → class of that school."""
    values: dict[str, Any] = {
        "region_code": data.region_code,
        "settlement_id": data.settlement_id,
        "school_id": data.school_id,
        "class_id": data.class_id,
    }
    region = await session.get(Region, data.region_code) if data.region_code else None
    if data.region_code and region is None:
        errors.add("regionCode", ErrorCode.NOT_FOUND, "Регион не найден")
    settlement = await session.get(Settlement, data.settlement_id) if data.settlement_id else None
    if data.settlement_id and settlement is None:
        errors.add("settlementId", ErrorCode.NOT_FOUND, "Населённый пункт не найден")
    elif settlement is not None and region is not None and settlement.region_code != region.code:
        errors.add("settlementId", ErrorCode.INVALID, "Населённый пункт не в выбранном регионе")
    school = await session.get(School, data.school_id) if data.school_id else None
    if data.school_id and not _school_takes_applications(school):
        errors.add("schoolId", ErrorCode.NOT_FOUND, "Школа не найдена или не принимает заявки")
        school = None
    elif school is not None and settlement is not None and school.settlement_id != settlement.id:
        errors.add("schoolId", ErrorCode.INVALID, "Школа не в выбранном населённом пункте")
    if data.class_id:
        school_class = await session.get(SchoolClass, data.class_id)
        if school_class is None or (data.school_id and school_class.school_id != data.school_id):
            errors.add("classId", ErrorCode.NOT_FOUND, "Класс не найден в выбранной школе")
        elif not data.school_id:
            errors.add("schoolId", ErrorCode.REQUIRED, "Выберите школу")
    return values


def _school_takes_applications(school: School | None) -> bool:
    """Only ACTIVE schools take applications, and only once launched for parents (OPEN)."""
    return school is not None and school.status == SchoolStatus.ACTIVE and school.launch_mode == LaunchMode.OPEN


def _check_complete(errors: ErrorCollector, app: Application, kinds: set[ApplicationAttachmentKind]) -> None:
    """What submission needs beyond well-formed fields."""
    required = {
        ("child", "lastName"): app.child_last_name,
        ("child", "firstName"): app.child_first_name,
        ("child", "birthDate"): app.child_birth_date,
        ("child", "sex"): app.child_sex,
        ("child", "birthCertificate", "series"): app.birth_cert_series,
        ("child", "birthCertificate", "number"): app.birth_cert_number,
        ("child", "birthCertificate", "issuedOn"): app.birth_cert_issued_on,
        ("child", "citizenship"): app.citizenship,
        ("regionCode",): app.region_code,
        ("settlementId",): app.settlement_id,
        ("schoolId",): app.school_id,
        ("classId",): app.class_id,
    }
    for path, value in required.items():
        if value is None:
            errors.add(path, ErrorCode.REQUIRED, "Обязательное поле")
    if ApplicationAttachmentKind.BIRTH_CERTIFICATE not in kinds:
        errors.add("attachments", ErrorCode.REQUIRED, "Приложите скан свидетельства о рождении")


# --- time -------------------------------------------------------------------------------


def school_zone(school: School | None) -> ZoneInfo:
    try:
        return ZoneInfo(school.timezone if school is not None else DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_date(moment: dt.datetime, school: School | None) -> dt.date:
    return moment.astimezone(school_zone(school)).date()


async def due_date(session: AsyncSession, submitted_on: dt.date, *, extended: bool) -> dt.date:
    """5 (extended: 10) working days after the submission date, by the production calendar."""
    calendar = await load_calendar(session, submitted_on)
    return calendar.add_working_days(submitted_on, EXTENDED_DUE_WORKING_DAYS if extended else DUE_WORKING_DAYS)


async def next_number(session: AsyncSession, year: int) -> str:
    """ "ED-<year>-<6 digits>": the year's counter raised atomically (the UPDATE holds the
    row until commit), so two submissions never share a number."""
    stmt = (
        update(ApplicationNumberCounter)
        .where(ApplicationNumberCounter.year == year)
        .values(last_value=ApplicationNumberCounter.last_value + 1)
        .returning(ApplicationNumberCounter.last_value)
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is None:
        try:
            async with session.begin_nested():
                await session.execute(insert(ApplicationNumberCounter).values(year=year, last_value=0))
        except IntegrityError:
            pass  # another submission made the year's counter first
        value = (await session.execute(stmt)).scalar_one()
    return f"ED-{year}-{int(value):06d}"


# --- reading one ----------------------------------------------------------------------


async def _get_visible(session: AsyncSession, actor: Actor, application_id: int, *, lock: bool = False) -> Application:
    stmt = select(Application).where(Application.id == application_id)
    if lock:
        stmt = stmt.with_for_update()
    app = (await session.scalars(stmt)).first()
    if app is None or not policy.can_view_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        raise DomainError(ErrorCode.NOT_FOUND, "Заявка не найдена", field="applicationId")
    return app


async def get_application(session: AsyncSession, *, actor: Actor, application_id: int) -> Application:
    return await _get_visible(session, actor, application_id)


def available_actions(actor: Actor | None, app: Application) -> list[ApplicationAction]:
    """What this viewer may do with the application now (for buttons in a UI)."""
    status = ApplicationStatus(app.status)
    actions: list[ApplicationAction] = []
    if policy.can_edit_application(actor, applicant_id=app.applicant_id):
        actions += [a for a in (A.UPDATE, A.SUBMIT) if (status, a) in TRANSITIONS]
    if policy.can_review_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        actions += [a for a in REVIEW_ACTIONS if (status, a) in TRANSITIONS and not (a == A.EXTEND and app.extended)]
    return actions


# --- drafts -------------------------------------------------------------------------------


async def create_application(
    session: AsyncSession,
    *,
    actor: Actor,
    data: ApplicationData,
    files: Files = Files(),
    now: dt.datetime | None = None,
) -> Application:
    """A DRAFT of the actor's, with whatever is filled in (each given field well-formed)."""
    policy.require_may_apply(actor)
    now = now or utcnow()
    errors = ErrorCollector()
    values = _check_child(errors, data.child, now.date())
    values |= await _check_place(session, errors, data)
    app = Application(applicant_id=actor.user_id, status=S.DRAFT, extended=False, **values)
    if not errors:
        session.add(app)
        await session.flush()
    await _apply_files(session, errors, actor=actor, app=app, files=files)
    errors.raise_if_any()
    _history(session, app, actor=actor, from_status=None, action=A.CREATE)
    audit.record(
        session,
        actor=actor,
        action="createApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        after=_snapshot(app),
    )
    return app


async def update_application(
    session: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    data: ApplicationData,
    files: Files = Files(),
    now: dt.datetime | None = None,
) -> Application:
    """Replace the form of a DRAFT or of an application returned for correction."""
    app = await _get_visible(session, actor, application_id, lock=True)
    if not policy.can_edit_application(actor, applicant_id=app.applicant_id):
        raise forbidden("Изменять заявку может только заявитель")
    status = ApplicationStatus(app.status)
    if next_status(status, A.UPDATE) is None:
        raise _not_allowed(status, A.UPDATE, "applicationId")
    now = now or utcnow()
    errors = ErrorCollector()
    values = _check_child(errors, data.child, now.date())
    values |= await _check_place(session, errors, data)
    if status == S.NEEDS_CORRECTION and values["school_id"] != app.school_id:
        # the school reviewing it keeps it: a different school is a new application
        errors.add("schoolId", ErrorCode.INVALID_STATE, "Школу поданной заявки изменить нельзя")
    if errors:
        await _apply_files(session, errors, actor=actor, app=app, files=files)
        errors.raise_if_any()
    before = _snapshot(app)
    for key, value in values.items():
        setattr(app, key, value)
    await session.flush()
    await _apply_files(session, errors, actor=actor, app=app, files=files)
    errors.raise_if_any()
    _history(session, app, actor=actor, from_status=status, action=A.UPDATE)
    audit.record(
        session,
        actor=actor,
        action="updateApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        before=before,
        after=_snapshot(app),
    )
    return app


async def _apply_files(
    session: AsyncSession, errors: ErrorCollector, *, actor: Actor, app: Application, files: Files
) -> None:
    """Store the new files (each checked, even when other fields are wrong, so every problem
    is told at once) and unlink the removed ones; nothing is written while `errors` has any."""
    stored: list[tuple[ApplicationAttachmentKind, int]] = []
    for n, new in enumerate(files.add):
        if files.storage is None or files.settings is None:
            raise RuntimeError("files to add need a storage and settings")
        attachment = await collect_attachment(
            session,
            errors,
            actor=actor,
            upload_name=new.file.name,
            stream=new.file.stream,
            storage=files.storage,
            settings=files.settings,
            field=("attachments", str(n), "file"),
        )
        if attachment is not None:
            stored.append((new.kind, attachment.id))
    current: list[int] = []
    if app.id is not None:
        current = list(
            (
                await session.scalars(
                    select(ApplicationAttachment.attachment_id).where(ApplicationAttachment.application_id == app.id)
                )
            ).all()
        )
    for n, attachment_id in enumerate(files.remove):
        if attachment_id not in current:
            errors.add(("removeAttachments", str(n)), ErrorCode.NOT_FOUND, "Такого файла в заявке нет")
    if len(current) - len(set(files.remove) & set(current)) + len(stored) > MAX_ATTACHMENTS:
        errors.add("attachments", ErrorCode.INVALID, f"Не больше {MAX_ATTACHMENTS} файлов в заявке")
    if errors or app.id is None:
        return
    for attachment_id in files.remove:
        link = (
            await session.scalars(
                select(ApplicationAttachment).where(
                    ApplicationAttachment.application_id == app.id,
                    ApplicationAttachment.attachment_id == attachment_id,
                )
            )
        ).first()
        if link is not None:
            await session.delete(link)
    for kind, attachment_id in stored:
        session.add(ApplicationAttachment(application_id=app.id, attachment_id=attachment_id, kind=kind))
    await session.flush()


# --- submission -------------------------------------------------------------------------


async def submit_application(
    session: AsyncSession, *, actor: Actor, application_id: int, now: dt.datetime | None = None
) -> Application:
    """Check everything (all problems at once, each with its field path); give the
    application its number (on first submission) and a due date 5 working days ahead."""
    app = await _get_visible(session, actor, application_id, lock=True)
    if not policy.can_edit_application(actor, applicant_id=app.applicant_id):
        raise forbidden("Подать заявку может только заявитель")
    policy.require_may_apply(actor)
    status = ApplicationStatus(app.status)
    target = next_status(status, A.SUBMIT)
    if target is None:
        raise _not_allowed(status, A.SUBMIT, "applicationId")
    now = now or utcnow()
    errors = ErrorCollector()
    # the stored form is checked again: the school or the class may have changed since
    stored = ApplicationData(
        child=ChildData(**_child_columns(app)),
        region_code=app.region_code,
        settlement_id=app.settlement_id,
        school_id=app.school_id,
        class_id=app.class_id,
    )
    _check_child(errors, stored.child, now.date())
    await _check_place(session, errors, stored)
    kinds = set(
        (
            await session.scalars(
                select(ApplicationAttachment.kind).where(ApplicationAttachment.application_id == app.id)
            )
        ).all()
    )
    _check_complete(errors, app, kinds)
    if not errors:
        await _check_not_duplicate(session, errors, app)
    errors.raise_if_any()

    school = await session.get_one(School, app.school_id)
    submitted_on = local_date(now, school)
    values: dict[str, Any] = {
        "submitted_at": now,
        "due_on": await due_date(session, submitted_on, extended=False),
        "extended": False,
    }
    if app.number is None:
        values["number"] = await next_number(session, submitted_on.year)
    await _transition(session, app, actor=actor, action=A.SUBMIT, expected=status, values=values)
    await _notify_applicant(session, app, action=A.SUBMIT)
    await _notify_admins_of_new(session, app, school, resubmitted=status == S.NEEDS_CORRECTION)
    return app


async def _check_not_duplicate(session: AsyncSession, errors: ErrorCollector, app: Application) -> None:
    """One open application per child and school from one parent."""
    same_child = [
        and_(
            Application.birth_cert_series == app.birth_cert_series,
            Application.birth_cert_number == app.birth_cert_number,
        )
    ]
    if app.child_snils:
        same_child.append(Application.child_snils == app.child_snils)
    other = await session.scalar(
        select(Application.number)
        .where(
            Application.applicant_id == app.applicant_id,
            Application.school_id == app.school_id,
            Application.id != app.id,
            Application.status.in_([*WITH_SCHOOL, S.NEEDS_CORRECTION]),
            or_(*same_child),
        )
        .limit(1)
    )
    if other is not None:
        errors.add(
            ("child", "birthCertificate", "number"),
            ErrorCode.DUPLICATE,
            f"Заявка на этого ребёнка в эту школу уже рассматривается: {other}",
        )


# --- review ---------------------------------------------------------------------------------


async def review_application(
    session: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    action: ApplicationAction,
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """One review action by the school's admin. Of two reviewers acting at once exactly one
    wins; the other is told the status the application is in now (INVALID_STATE)."""
    # the row lock makes concurrent reviewers queue: the second reads what the first decided
    app = await _get_visible(session, actor, application_id, lock=True)
    if not policy.can_review_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        if actor.user_id == app.applicant_id:
            raise forbidden("Нельзя рассматривать собственную заявку")
        raise forbidden("Заявку рассматривает администратор школы")
    if action not in REVIEW_ACTIONS:
        raise DomainError(ErrorCode.INVALID, "Это не действие проверки заявки", field="action")
    status = ApplicationStatus(app.status)
    errors = ErrorCollector()
    comment = _text(comment)
    if comment and len(comment) > MAX_COMMENT_LENGTH:
        errors.add("comment", ErrorCode.TOO_LONG, f"Не длиннее {MAX_COMMENT_LENGTH} символов")
    if action == A.REJECT and comment is None:
        errors.add("comment", ErrorCode.REQUIRED, "Укажите причину отказа")
    if action == A.REQUEST_CORRECTION and comment is None:
        errors.add("comment", ErrorCode.REQUIRED, "Напишите, что нужно исправить")
    target = next_status(status, action)
    if target is None:
        errors.errors.extend(_not_allowed(status, action).errors)
    elif action == A.EXTEND and app.extended:
        errors.add("action", ErrorCode.INVALID_STATE, "Срок рассмотрения уже продлён")
    errors.raise_if_any()
    now = now or utcnow()

    values: dict[str, Any] = {}
    if action == A.EXTEND:
        school = await session.get_one(School, app.school_id)
        submitted = app.submitted_at or now
        values = {"extended": True, "due_on": await due_date(session, local_date(submitted, school), extended=True)}
    elif action == A.REJECT:
        values = {"rejection_reason": comment, "decided_at": now}
    child: Child | None = None
    if action == A.APPROVE:
        child = await _find_or_create_child(session, app)
        values = {"decided_at": now, "child_id": child.id}
    await _transition(session, app, actor=actor, action=action, expected=status, values=values, comment=comment)
    if child is not None:
        await _grant_access(session, app, child, now=now)
    await _notify_applicant(session, app, action=action, comment=comment)
    return app


async def _transition(
    session: AsyncSession,
    app: Application,
    *,
    actor: Actor,
    action: ApplicationAction,
    expected: ApplicationStatus,
    values: dict[str, Any],
    comment: str | None = None,
) -> None:
    """Move `app` from `expected` by `action`: one conditional UPDATE on (id, status,
    version), so a concurrent change makes it fail (INVALID_STATE with the status now)."""
    target = TRANSITIONS[(expected, action)]
    version = app.version
    result = await session.execute(
        update(Application)
        .where(Application.id == app.id, Application.status == expected, Application.version == version)
        .values(status=target, version=version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(Application.status).where(Application.id == app.id))
        now_status = ApplicationStatus(current or expected)
        if now_status == expected:
            raise DomainError(ErrorCode.CONFLICT, "Заявку только что изменили: обновите её и повторите", field="action")
        raise _not_allowed(now_status, action)
    await session.refresh(app)
    _history(session, app, actor=actor, from_status=expected, action=action, comment=comment)
    audit.record(
        session,
        actor=actor,
        action="submitApplication" if action == A.SUBMIT else "reviewApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        before={"status": expected.value},
        after={"status": target.value, "action": action.value, "comment": comment, **_jsonable(values)},
    )
    assert app.school_id is not None  # noqa: S101 - a submitted application has its school
    for on_school in (False, True):
        queue_event(
            session,
            ApplicationStatusChanged(
                application_id=app.id,
                school_id=app.school_id,
                applicant_id=app.applicant_id,
                status=target.value,
                on_school=on_school,
            ),
        )


def _history(
    session: AsyncSession,
    app: Application,
    *,
    actor: Actor,
    from_status: ApplicationStatus | None,
    action: ApplicationAction,
    comment: str | None = None,
) -> None:
    session.add(
        ApplicationEvent(
            application_id=app.id,
            from_status=from_status,
            to_status=app.status,
            action=action,
            actor_id=None if actor.is_system else actor.user_id,
            comment=comment,
        )
    )


# --- approval: the child, the guardianship, the enrolment ------------------------------------


async def _grant_access(session: AsyncSession, app: Application, child: Child, *, now: dt.datetime) -> None:
    """The guardianship and the class enrolment (ending the child's other open one this year)."""
    guardian = await session.scalar(
        select(Guardianship.id).where(Guardianship.parent_id == app.applicant_id, Guardianship.child_id == child.id)
    )
    if guardian is None:
        session.add(Guardianship(parent_id=app.applicant_id, child_id=child.id, application_id=app.id))
    school_class = await session.get_one(SchoolClass, app.class_id)
    year = await session.get_one(AcademicYear, school_class.academic_year_id)
    school = await session.get_one(School, app.school_id)
    today = local_date(now, school)
    starts_on = max(today, year.starts_on)
    open_in_year = (
        await session.scalars(
            select(Enrollment)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(
                Enrollment.child_id == child.id,
                Enrollment.ends_on.is_(None),
                SchoolClass.academic_year_id == school_class.academic_year_id,
            )
        )
    ).all()
    already = False
    for enrollment in open_in_year:
        if enrollment.class_id == school_class.id:
            already = True
        else:
            enrollment.ends_on = max(enrollment.starts_on, starts_on - dt.timedelta(days=1))
    if not already:
        session.add(Enrollment(child_id=child.id, class_id=school_class.id, starts_on=starts_on))
    await session.flush()


async def _find_or_create_child(session: AsyncSession, app: Application) -> Child:
    """By SNILS, else by birth certificate; else a new child record from the application."""
    child = None
    if app.child_snils:
        child = (await session.scalars(select(Child).where(Child.snils == app.child_snils))).first()
    if child is None and app.birth_cert_series and app.birth_cert_number:
        child = (
            await session.scalars(
                select(Child).where(
                    Child.birth_cert_series == app.birth_cert_series,
                    Child.birth_cert_number == app.birth_cert_number,
                )
            )
        ).first()
        if child is not None and child.snils is None and app.child_snils:
            child.snils = app.child_snils
    if child is not None:
        return child
    if not (app.child_last_name and app.child_first_name and app.child_birth_date and app.child_sex):
        raise DomainError(ErrorCode.REQUIRED, "Сведения о ребёнке не заполнены", field="child")
    child = Child(**{**_child_columns(app), "citizenship": app.citizenship or RUSSIA})
    session.add(child)
    await session.flush()
    return child


# --- notifications ---------------------------------------------------------------------------

_APPLICANT_TEXTS = {
    S.SUBMITTED: ("Заявка подана", "Заявка {number} подана. Срок рассмотрения — до {due}."),
    S.ACCEPTED: ("Заявка принята", "Заявка {number} принята школой к рассмотрению."),
    S.IN_REVIEW: ("Заявка на проверке", "Школа проверяет сведения по заявке {number}."),
    S.NEEDS_CORRECTION: ("Заявку нужно исправить", "Заявка {number} возвращена на исправление: {comment}"),
    S.APPROVED: ("Заявка одобрена", "Заявка {number} одобрена: дневник ребёнка доступен в разделе «Мои дети»."),
    S.REJECTED: ("Заявка отклонена", "Заявка {number} отклонена. Причина: {comment}"),
}


async def _notify_applicant(
    session: AsyncSession, app: Application, *, action: ApplicationAction, comment: str | None = None
) -> None:
    applicant = await session.get_one(User, app.applicant_id)
    status = ApplicationStatus(app.status)
    due = app.due_on.strftime("%d.%m.%Y") if app.due_on else ""
    if action == A.EXTEND:
        title, body = "Срок рассмотрения продлён", f"Срок рассмотрения заявки {app.number} продлён до {due}."
    else:
        title, template = _APPLICANT_TEXTS[status]
        body = template.format(number=app.number, due=due, comment=comment or app.rejection_reason or "")
    await notifications.notify(
        session,
        user=applicant,
        kind=NotificationKind.APPLICATION_STATUS,
        title=title,
        body=body,
        payload={"applicationId": app.id, "number": app.number, "status": status.value},
    )


async def _school_admins(session: AsyncSession, school_id: int) -> list[User]:
    return list(
        (
            await session.scalars(
                select(User)
                .join(StaffMembership, StaffMembership.user_id == User.id)
                .where(
                    StaffMembership.school_id == school_id,
                    StaffMembership.role == StaffRole.SCHOOL_ADMIN,
                    StaffMembership.active.is_(True),
                )
                .order_by(User.id)
            )
        ).all()
    )


async def _notify_admins_of_new(session: AsyncSession, app: Application, school: School, *, resubmitted: bool) -> None:
    title = "Исправленная заявка" if resubmitted else "Новая заявка на доступ к дневнику"
    due = app.due_on.strftime("%d.%m.%Y") if app.due_on else ""
    verb = "исправлена и подана снова" if resubmitted else "подана"
    for admin in await _school_admins(session, school.id):
        if admin.id == app.applicant_id:
            continue
        await notifications.notify(
            session,
            user=admin,
            kind=NotificationKind.APPLICATION_STATUS,
            title=title,
            body=f"Заявка {app.number} {verb}; рассмотреть до {due}.",
            payload={"applicationId": app.id, "number": app.number, "status": app.status.value},
        )


async def notify_overdue(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Tell each school's admins which of its applications are past their due date (a
    daily job: `ediary-gql applications remind-overdue`). Returns the notices sent."""
    now = now or utcnow()
    rows = (
        await session.execute(
            select(Application, School)
            .join(School, School.id == Application.school_id)
            .where(Application.status.in_(WITH_SCHOOL), Application.due_on.is_not(None))
            .order_by(Application.school_id, Application.due_on, Application.id)
        )
    ).all()
    overdue: dict[int, list[Application]] = {}
    for app, school in rows:
        if app.due_on is not None and app.due_on < local_date(now, school):
            overdue.setdefault(school.id, []).append(app)
    sent = 0
    for school_id, apps in overdue.items():
        numbers = ", ".join(f"{a.number} (срок {a.due_on:%d.%m.%Y})" for a in apps[:20])
        more = f" и ещё {len(apps) - 20}" if len(apps) > 20 else ""
        for admin in await _school_admins(session, school_id):
            await notifications.notify(
                session,
                user=admin,
                kind=NotificationKind.APPLICATION_STATUS,
                title="Просроченные заявки",
                body=f"Срок рассмотрения истёк у заявок: {numbers}{more}.",
                payload={"schoolId": school_id, "applicationIds": [a.id for a in apps]},
            )
            sent += 1
    return sent


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: ApplicationStatus | None = None
    overdue: bool | None = None
    query: str | None = None
    school_id: int | None = None


def own_applications_query(actor: Actor) -> Select[Application]:
    return select(Application).where(Application.applicant_id == actor.user_id)


async def queue_query(
    session: AsyncSession, *, actor: Actor, flt: QueueFilter, now: dt.datetime | None = None
) -> Select[Application]:
    """Submitted applications of the schools the actor reviews (operators: all), filtered;
    drafts stay the applicant's own. Ordered by the caller: oldest due first."""
    scope = policy.application_queue_scope(actor)
    stmt = select(Application).where(Application.status != S.DRAFT)
    if scope is not None:
        if flt.school_id is not None and flt.school_id not in scope:
            return stmt.where(false())
        stmt = stmt.where(Application.school_id.in_(sorted(scope)))
    if flt.school_id is not None:
        stmt = stmt.where(Application.school_id == flt.school_id)
    if flt.status is not None:
        stmt = stmt.where(Application.status == flt.status)
    if flt.overdue is not None:
        cond = await _overdue_condition(session, now or utcnow())
        stmt = stmt.where(cond if flt.overdue else ~cond)
    query = _text(flt.query)
    if query:
        name = query[:1].upper() + query[1:].lower()
        stmt = stmt.where(
            or_(Application.number == query.upper(), Application.child_last_name.like(_like_prefix(name), escape="\\"))
        )
    return stmt


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _overdue_condition(session: AsyncSession, now: dt.datetime) -> ColumnElement[bool]:
    """Waiting for the school past the due date, "today" read in each school's time zone."""
    zones = (await session.scalars(select(School.timezone).distinct())).all()
    per_zone = [
        and_(
            Application.school_id.in_(select(School.id).where(School.timezone == zone)),
            Application.due_on < now.astimezone(_zone(zone)).date(),
        )
        for zone in zones
    ]
    return and_(Application.status.in_(WITH_SCHOOL), or_(false(), *per_zone))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def is_overdue(app: Application, school: School | None, now: dt.datetime | None = None) -> bool:
    today = local_date(now or utcnow(), school)
    return ApplicationStatus(app.status) in WITH_SCHOOL and app.due_on is not None and app.due_on < today


# --- loaders' queries -------------------------------------------------------------------------


async def history_of(session: AsyncSession, application_ids: list[int]) -> list[tuple[int, ApplicationEvent]]:
    rows = await session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id.in_(application_ids))
        .order_by(ApplicationEvent.application_id, ApplicationEvent.id)
    )
    return [(row.application_id, row) for row in rows]


async def attachments_of(session: AsyncSession, application_ids: list[int]) -> list[tuple[int, ApplicationAttachment]]:
    rows = await session.scalars(
        select(ApplicationAttachment)
        .where(ApplicationAttachment.application_id.in_(application_ids))
        .order_by(ApplicationAttachment.application_id, ApplicationAttachment.id)
    )
    return [(row.application_id, row) for row in rows]


def _snapshot(app: Application) -> dict[str, Any]:
    return _jsonable(
        {
            "status": app.status,
            "schoolId": app.school_id,
            "classId": app.class_id,
            "child": " ".join(p for p in (app.child_last_name, app.child_first_name, app.child_middle_name) if p),
            "birthDate": app.child_birth_date,
        }
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dt.date | dt.datetime):
            out[key] = value.isoformat()
        elif isinstance(value, str):
            out[key] = str(value)
        else:
            out[key] = value
    return out
