"""School setup by the school's admin: academic years with periods and holidays,
subjects, control types, classes, teacher invitations and assignments,
enrolling children and moving them between classes.

Every function asks the policy first, collects every input problem at once
(each with its field path) and never commits: the caller's transaction does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import Channel, NotificationKind, PeriodKind, Sex, StaffRole
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.school_setup import TeacherInvitation
from ediary_gql.db.models.schools import School, StaffBinding, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.notifications import notify
from ediary_gql.services.requisites import normalize_snils

PERIOD_COUNT = {PeriodKind.QUARTER: 4, PeriodKind.TRIMESTER: 3, PeriodKind.SEMESTER: 2}
PERIOD_WORD = {PeriodKind.QUARTER: "четверти", PeriodKind.TRIMESTER: "триместра", PeriodKind.SEMESTER: "полугодия"}
CLASS_LETTER = re.compile(r"^[А-ЯЁ]$")
CONTROL_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
CERT_SERIES = re.compile(r"^[IVXLC]{1,4}-[А-ЯЁ]{2}$")
CERT_NUMBER = re.compile(r"^\d{6}$")
CITIZENSHIP = re.compile(r"^\d{3}$")
MAX_WEIGHT = Decimal("99.99")
NAME_MAX = 100


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _required_text(errors: ErrorCollector, path: Sequence[str], value: str | None, max_len: int) -> str | None:
    text = _text(value)
    if text is None:
        errors.add(path, ErrorCode.REQUIRED, "Заполните поле")
    elif len(text) > max_len:
        errors.add(path, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
    return text


def require_setup(actor: Actor, school_id: int) -> None:
    """Only a confirmed school admin of that school sets it up (FORBIDDEN otherwise)."""
    policy.require_confirmed(actor)
    policy.ensure(
        policy.can_set_up_school(actor, school_id),
        "Настраивать школу может только ответственный за дневник этой школы",
    )


async def _school_of_class(session: AsyncSession, class_id: int, *, field: str) -> SchoolClass:
    klass = await session.get(SchoolClass, class_id)
    if klass is None:
        # An admin of no school learns nothing from NOT_FOUND vs FORBIDDEN: both refuse.
        raise DomainError(ErrorCode.NOT_FOUND, "Класс не найден", field=field)
    return klass


async def is_active_teacher(session: AsyncSession, user_id: int, school_id: int) -> bool:
    found = await session.scalar(
        select(StaffMembership.id).where(
            StaffMembership.user_id == user_id,
            StaffMembership.school_id == school_id,
            StaffMembership.role == StaffRole.TEACHER,
            StaffMembership.active.is_(True),
        )
    )
    return found is not None


# --- academic years ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateRange:
    name: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True, slots=True)
class NewAcademicYear:
    school_id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    period_kind: PeriodKind
    periods: Sequence[DateRange]
    holidays: Sequence[DateRange] = ()


async def create_academic_year(session: AsyncSession, *, actor: Actor, data: NewAcademicYear) -> AcademicYear:
    """A year with its periods (count matching the kind, inside the year, not
    overlapping) and its holidays (inside the year)."""
    require_setup(actor, data.school_id)
    errors = ErrorCollector()
    name = _required_text(errors, "name", data.name, 20)
    year_ok = data.starts_on < data.ends_on
    if not year_ok:
        errors.add("endsOn", ErrorCode.INVALID, "Год должен заканчиваться позже, чем начинается")
    expected = PERIOD_COUNT[data.period_kind]
    if len(data.periods) != expected:
        errors.add(
            "periods",
            ErrorCode.INVALID,
            f"Для деления на {PERIOD_WORD[data.period_kind]} нужно периодов: {expected}, указано: {len(data.periods)}",
        )
    _check_ranges(errors, "periods", data.periods, data, year_ok=year_ok, single_day_ok=False)
    ordered = sorted(enumerate(data.periods), key=lambda p: p[1].starts_on)
    for (_, prev), (i, cur) in itertools.pairwise(ordered):
        if cur.starts_on <= prev.ends_on:
            errors.add(("periods", str(i), "startsOn"), ErrorCode.CONFLICT, "Периоды не должны пересекаться")
    _check_ranges(errors, "holidays", data.holidays, data, year_ok=year_ok, single_day_ok=True)
    if name is not None:
        taken = await session.scalar(
            select(AcademicYear.id).where(AcademicYear.school_id == data.school_id, AcademicYear.name == name)
        )
        if taken is not None:
            errors.add("name", ErrorCode.DUPLICATE, "Учебный год с таким названием уже есть")
    errors.raise_if_any()
    assert name is not None  # noqa: S101 - checked above

    year = AcademicYear(
        school_id=data.school_id,
        name=name,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        period_kind=data.period_kind,
    )
    session.add(year)
    await session.flush()
    for number, (_, p) in enumerate(ordered, start=1):
        session.add(
            Period(
                academic_year_id=year.id, number=number, name=p.name.strip(), starts_on=p.starts_on, ends_on=p.ends_on
            )
        )
    for h in data.holidays:
        session.add(Holiday(school_id=data.school_id, name=h.name.strip(), starts_on=h.starts_on, ends_on=h.ends_on))
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createAcademicYear",
        entity_type="AcademicYear",
        entity_id=year.id,
        school_id=data.school_id,
        after={
            "name": name,
            "startsOn": data.starts_on.isoformat(),
            "endsOn": data.ends_on.isoformat(),
            "periodKind": data.period_kind.value,
            "periods": [[p.name, p.starts_on.isoformat(), p.ends_on.isoformat()] for _, p in ordered],
            "holidays": [[h.name, h.starts_on.isoformat(), h.ends_on.isoformat()] for h in data.holidays],
        },
    )
    return year


def _check_ranges(
    errors: ErrorCollector,
    key: str,
    ranges: Sequence[DateRange],
    year: NewAcademicYear,
    *,
    year_ok: bool,
    single_day_ok: bool,
) -> None:
    for i, r in enumerate(ranges):
        path = (key, str(i))
        _required_text(errors, (*path, "name"), r.name, 50 if key == "periods" else 200)
        if r.ends_on < r.starts_on or (not single_day_ok and r.ends_on == r.starts_on):
            errors.add((*path, "endsOn"), ErrorCode.INVALID, "Окончание должно быть позже начала")
        elif year_ok and (r.starts_on < year.starts_on or r.ends_on > year.ends_on):
            errors.add((*path, "startsOn"), ErrorCode.INVALID, "Даты должны лежать внутри учебного года")


# --- subjects and control types ------------------------------------------------------


async def create_subject(
    session: AsyncSession, *, actor: Actor, school_id: int, name: str, short_name: str | None = None
) -> Subject:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean = _required_text(errors, "name", name, 200)
    short = _text(short_name)
    if short is not None and len(short) > 50:
        errors.add("shortName", ErrorCode.TOO_LONG, "Не длиннее 50 символов")
    if clean is not None:
        taken = await session.scalar(select(Subject.id).where(Subject.school_id == school_id, Subject.name == clean))
        if taken is not None:
            errors.add("name", ErrorCode.DUPLICATE, "Такой предмет уже есть")
    errors.raise_if_any()
    assert clean is not None  # noqa: S101 - checked above
    subject = Subject(school_id=school_id, name=clean, short_name=short)
    session.add(subject)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createSubject",
        entity_type="Subject",
        entity_id=subject.id,
        school_id=school_id,
        after={"name": clean, "shortName": short},
    )
    return subject


def parse_weight(raw: str | float | Decimal, *, field: str | Sequence[str] = "weight") -> Decimal:
    try:
        weight = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(ErrorCode.INVALID, "Вес — число, например 1.5", field=field) from None
    if not weight.is_finite() or weight <= 0 or weight > MAX_WEIGHT or weight != weight.quantize(Decimal("0.01")):
        raise DomainError(ErrorCode.INVALID, "Вес — положительное число до 99.99 с двумя знаками", field=field)
    return weight.quantize(Decimal("0.01"))


async def create_control_type(
    session: AsyncSession, *, actor: Actor, school_id: int, code: str, name: str, weight: str | float | Decimal
) -> ControlType:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_code = (code or "").strip().upper()
    if not CONTROL_CODE.match(clean_code):
        errors.add("code", ErrorCode.INVALID, "Код — латинские заглавные буквы, цифры и _, например TEST")
    clean_name = _required_text(errors, "name", name, 100)
    clean_weight = errors.check(lambda: parse_weight(weight))
    if CONTROL_CODE.match(clean_code):
        taken = await session.scalar(
            select(ControlType.id).where(ControlType.school_id == school_id, ControlType.code == clean_code)
        )
        if taken is not None:
            errors.add("code", ErrorCode.DUPLICATE, "Вид работы с таким кодом уже есть")
    errors.raise_if_any()
    assert clean_name is not None  # noqa: S101 - checked above
    assert clean_weight is not None  # noqa: S101 - checked above
    row = ControlType(school_id=school_id, code=clean_code, name=clean_name, weight=clean_weight)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createControlType",
        entity_type="ControlType",
        entity_id=row.id,
        school_id=school_id,
        after={"code": clean_code, "name": clean_name, "weight": str(clean_weight)},
    )
    return row


# --- classes --------------------------------------------------------------------


def check_class_letter(letter: str, *, field: str | Sequence[str] = "letter") -> str:
    clean = (letter or "").strip().upper()
    if not CLASS_LETTER.match(clean):
        raise DomainError(ErrorCode.INVALID, "Литера класса — одна заглавная русская буква, например А", field=field)
    return clean


def check_class_level(level: int, *, field: str | Sequence[str] = "level") -> int:
    if not 1 <= level <= 11:
        raise DomainError(ErrorCode.INVALID, "Параллель — число от 1 до 11", field=field)
    return level


async def create_class(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    academic_year_id: int,
    level: int,
    letter: str,
    homeroom_teacher_id: int | None = None,
) -> SchoolClass:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_level = errors.check(lambda: check_class_level(level))
    clean_letter = errors.check(lambda: check_class_letter(letter))
    year = await session.get(AcademicYear, academic_year_id)
    if year is None or year.school_id != school_id:
        errors.add("academicYearId", ErrorCode.NOT_FOUND, "Учебный год этой школы не найден")
        year = None
    if homeroom_teacher_id is not None and not await is_active_teacher(session, homeroom_teacher_id, school_id):
        errors.add("homeroomTeacherId", ErrorCode.INVALID, "Классный руководитель должен быть учителем этой школы")
    if year is not None and clean_level is not None and clean_letter is not None:
        taken = await session.scalar(
            select(SchoolClass.id).where(
                SchoolClass.academic_year_id == year.id,
                SchoolClass.level == clean_level,
                SchoolClass.letter == clean_letter,
            )
        )
        if taken is not None:
            errors.add("letter", ErrorCode.DUPLICATE, f"Класс {clean_level}{clean_letter} в этом году уже есть")
    errors.raise_if_any()
    assert clean_level is not None  # noqa: S101 - checked above
    assert clean_letter is not None  # noqa: S101 - checked above
    klass = SchoolClass(
        school_id=school_id,
        academic_year_id=academic_year_id,
        level=clean_level,
        letter=clean_letter,
        homeroom_teacher_id=homeroom_teacher_id,
    )
    session.add(klass)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createClass",
        entity_type="SchoolClass",
        entity_id=klass.id,
        school_id=school_id,
        after={
            "academicYearId": academic_year_id,
            "level": clean_level,
            "letter": clean_letter,
            "homeroomTeacherId": homeroom_teacher_id,
        },
    )
    return klass


# --- teachers -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    """What was recorded, and, for a contact with no account, the message to send
    once the transaction has committed (an account gets a notification instead)."""

    invitation: TeacherInvitation
    existing_user: User | None
    outside_message: tuple[Channel, str, str, str] | None  # channel, address, subject, body


async def invite_teacher(
    session: AsyncSession, *, actor: Actor, school_id: int, phone: str | None, email: str | None
) -> Invitation:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_phone = clean_email = None
    if _text(phone) is None and _text(email) is None:
        errors.add("phone", ErrorCode.REQUIRED, "Укажите телефон или электронную почту")
    if _text(phone) is not None:
        clean_phone = errors.check(lambda: normalize_phone(phone or ""))
    if _text(email) is not None:
        clean_email = errors.check(lambda: normalize_email(email or ""))
    errors.raise_if_any()
    school = await session.get(School, school_id)
    if school is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="schoolId")
    conds = []
    if clean_phone:
        conds.append(User.phone == clean_phone)
    if clean_email:
        conds.append(User.email == clean_email)
    user = (await session.scalars(select(User).where(or_(*conds)).limit(1))).first()
    if user is not None and await is_active_teacher(session, user.id, school_id):
        raise DomainError(
            ErrorCode.CONFLICT, "Этот человек уже учитель школы", field="phone" if clean_phone else "email"
        )
    invitation = TeacherInvitation(
        school_id=school_id,
        invited_by_id=None if actor.is_system else actor.user_id,
        phone=clean_phone,
        email=clean_email,
        user_id=user.id if user else None,
    )
    session.add(invitation)
    await session.flush()
    title = f"Приглашение в электронный дневник: {school.short_name}"
    body = (
        f"Школа «{school.short_name}» приглашает вас вести электронный дневник как учителя. "
        f"Войдите в дневник и подайте заявку на привязку к школе (роль «Учитель»): "
        f"она будет отмечена как приглашённая."
    )
    outside = None
    if user is not None:
        await notify(
            session,
            user=user,
            kind=NotificationKind.STAFF_BINDING,
            title=title,
            body=body,
            payload={"schoolId": school_id, "invitationId": invitation.id},
        )
    else:
        register = " Сначала зарегистрируйтесь с этим телефоном или адресом почты."
        if clean_email:
            outside = (Channel.EMAIL, clean_email, title, body + register)
        elif clean_phone:
            outside = (Channel.SMS, clean_phone, title, body + register)
    audit.record(
        session,
        actor=actor,
        action="inviteTeacher",
        entity_type="TeacherInvitation",
        entity_id=invitation.id,
        school_id=school_id,
        after={"phone": clean_phone, "email": clean_email, "userId": invitation.user_id},
    )
    return Invitation(invitation=invitation, existing_user=user, outside_message=outside)


async def invited_binding_ids(session: AsyncSession, binding_ids: Sequence[int]) -> set[int]:
    """Of these staff bindings, those for TEACHER whose requester was invited to that
    school (by the account, its phone or its email)."""
    if not binding_ids:
        return set()
    rows = await session.execute(
        select(StaffBinding.id)
        .join(User, User.id == StaffBinding.user_id)
        .join(
            TeacherInvitation,
            and_(
                TeacherInvitation.school_id == StaffBinding.school_id,
                or_(
                    TeacherInvitation.user_id == User.id,
                    TeacherInvitation.phone == User.phone,
                    TeacherInvitation.email == User.email,
                ),
            ),
        )
        .where(StaffBinding.id.in_(binding_ids), StaffBinding.role == StaffRole.TEACHER)
    )
    return {i for (i,) in rows.all()}


async def assign_teacher(
    session: AsyncSession, *, actor: Actor, teacher_id: int, class_id: int, subject_id: int
) -> TeachingAssignment:
    klass = await _school_of_class(session, class_id, field="classId")
    require_setup(actor, klass.school_id)
    errors = ErrorCollector()
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != klass.school_id:
        errors.add("subjectId", ErrorCode.NOT_FOUND, "Предмет этой школы не найден")
    if not await is_active_teacher(session, teacher_id, klass.school_id):
        errors.add("teacherId", ErrorCode.INVALID, "Назначить можно только действующего учителя этой школы")
    if not errors:
        taken = await session.scalar(
            select(TeachingAssignment.id).where(
                TeachingAssignment.teacher_id == teacher_id,
                TeachingAssignment.class_id == class_id,
                TeachingAssignment.subject_id == subject_id,
            )
        )
        if taken is not None:
            errors.add("teacherId", ErrorCode.DUPLICATE, "Учитель уже ведёт этот предмет в этом классе")
    errors.raise_if_any()
    row = TeachingAssignment(teacher_id=teacher_id, class_id=class_id, subject_id=subject_id)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="assignTeacher",
        entity_type="TeachingAssignment",
        entity_id=row.id,
        school_id=klass.school_id,
        after={"teacherId": teacher_id, "classId": class_id, "subjectId": subject_id},
    )
    return row


async def unassign_teacher(session: AsyncSession, *, actor: Actor, assignment_id: int) -> TeachingAssignment:
    row = await session.get(TeachingAssignment, assignment_id)
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Назначение не найдено", field="assignmentId")
    klass = await _school_of_class(session, row.class_id, field="assignmentId")
    require_setup(actor, klass.school_id)
    before = {"teacherId": row.teacher_id, "classId": row.class_id, "subjectId": row.subject_id}
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="unassignTeacher",
        entity_type="TeachingAssignment",
        entity_id=assignment_id,
        school_id=klass.school_id,
        before=before,
    )
    return row


# --- children -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildData:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: Sex
    snils: str | None = None
    cert_series: str | None = None
    cert_number: str | None = None
    cert_issued_on: dt.date | None = None
    citizenship: str = "643"


@dataclass(slots=True)
class CleanChild:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: Sex
    snils: str | None
    cert_series: str | None
    cert_number: str | None
    cert_issued_on: dt.date | None
    citizenship: str
    problems: list[tuple[str, ErrorCode, str]] = field(default_factory=list)


def clean_child(data: ChildData, *, today: dt.date) -> CleanChild:
    """A child's data in canonical form, with its problems as (field, code, message);
    the field names are the GraphQL ones (birthCertificate.series …)."""
    problems: list[tuple[str, ErrorCode, str]] = []

    def name(key: str, value: str | None, *, required: bool) -> str | None:
        text = _text(value)
        if text is None:
            if required:
                problems.append((key, ErrorCode.REQUIRED, "Заполните поле"))
            return None
        if len(text) > NAME_MAX:
            problems.append((key, ErrorCode.TOO_LONG, f"Не длиннее {NAME_MAX} символов"))
        elif not re.fullmatch(r"[А-ЯЁа-яёA-Za-z][А-ЯЁа-яёA-Za-z' -]*", text):
            problems.append((key, ErrorCode.INVALID, "Только буквы, дефис, пробел и апостроф"))
        return text

    last = name("lastName", data.last_name, required=True) or ""
    first = name("firstName", data.first_name, required=True) or ""
    middle = name("middleName", data.middle_name, required=False)
    if data.birth_date > today or data.birth_date < dt.date(today.year - 25, 1, 1):
        problems.append(("birthDate", ErrorCode.INVALID, "Проверьте дату рождения"))
    snils = None
    if _text(data.snils) is not None:
        try:
            snils = normalize_snils(data.snils or "")
        except DomainError as exc:
            problems.append(("snils", exc.code, exc.errors[0].message))
    series = _text(data.cert_series)
    number = _text(data.cert_number)
    if series is not None:
        series = series.upper().replace(" ", "-")
        if not CERT_SERIES.match(series):
            problems.append(("birthCertificate.series", ErrorCode.INVALID, "Серия свидетельства — например IV-АК"))
    if number is not None and not CERT_NUMBER.match(number):
        problems.append(("birthCertificate.number", ErrorCode.INVALID, "Номер свидетельства — 6 цифр"))
    if (series is None) != (number is None):
        missing = "birthCertificate.number" if number is None else "birthCertificate.series"
        problems.append((missing, ErrorCode.REQUIRED, "Укажите и серию, и номер свидетельства"))
    if data.cert_issued_on is not None and (data.cert_issued_on < data.birth_date or data.cert_issued_on > today):
        problems.append(("birthCertificate.issuedOn", ErrorCode.INVALID, "Дата выдачи — после рождения и не в будущем"))
    citizenship = (data.citizenship or "643").strip()
    if not CITIZENSHIP.match(citizenship):
        problems.append(("citizenship", ErrorCode.INVALID, "Гражданство — трёхзначный код ОКСМ, например 643"))
    return CleanChild(
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=data.birth_date,
        sex=data.sex,
        snils=snils,
        cert_series=series,
        cert_number=number,
        cert_issued_on=data.cert_issued_on,
        citizenship=citizenship,
        problems=problems,
    )


async def _find_child(session: AsyncSession, clean: CleanChild) -> Child | None:
    conds = []
    if clean.snils:
        conds.append(Child.snils == clean.snils)
    if clean.cert_series and clean.cert_number:
        conds.append(and_(Child.birth_cert_series == clean.cert_series, Child.birth_cert_number == clean.cert_number))
    if not conds:
        return None
    return (await session.scalars(select(Child).where(or_(*conds)).order_by(Child.id).limit(1))).first()


async def _open_enrollment_in_year(
    session: AsyncSession, child_id: int, academic_year_id: int, on: dt.date
) -> Enrollment | None:
    """The child's enrolment in a class of that year that is still open on `on` (or later)."""
    return (
        await session.scalars(
            select(Enrollment)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(
                Enrollment.child_id == child_id,
                SchoolClass.academic_year_id == academic_year_id,
                or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= on),
            )
            .order_by(Enrollment.starts_on)
            .limit(1)
        )
    ).first()


async def enroll_child(
    session: AsyncSession,
    *,
    actor: Actor,
    class_id: int,
    child: ChildData,
    starts_on: dt.date,
    today: dt.date | None = None,
) -> Enrollment:
    """Enrol a child (found by SNILS or birth certificate, else created) in a class
    from `starts_on`; a child is in one class at a time per academic year."""
    klass = await _school_of_class(session, class_id, field="classId")
    require_setup(actor, klass.school_id)
    errors = ErrorCollector()
    clean = clean_child(child, today=today or dt.datetime.now(dt.UTC).date())
    for key, code, message in clean.problems:
        errors.add(("child", *key.split(".")), code, message)
    if clean.snils is None and clean.cert_number is None and not clean.problems:
        errors.add(("child", "snils"), ErrorCode.REQUIRED, "Укажите СНИЛС или свидетельство о рождении")
    year = await session.get(AcademicYear, klass.academic_year_id)
    assert year is not None  # noqa: S101 - a foreign key
    if not year.starts_on <= starts_on <= year.ends_on:
        errors.add("startsOn", ErrorCode.INVALID, "Дата зачисления должна лежать внутри учебного года класса")
    errors.raise_if_any()

    row = await _find_child(session, clean)
    if row is not None:
        if row.birth_date != clean.birth_date or row.last_name.casefold() != clean.last_name.casefold():
            raise DomainError(
                ErrorCode.CONFLICT,
                "Ребёнок с этим СНИЛС или свидетельством уже есть, но с другими фамилией или датой рождения",
                field=("child", "snils") if clean.snils else ("child", "birthCertificate", "number"),
            )
        open_one = await _open_enrollment_in_year(session, row.id, year.id, starts_on)
        if open_one is not None:
            raise DomainError(
                ErrorCode.CONFLICT,
                "Ребёнок уже зачислен в класс этого учебного года: переведите его (moveChild)",
                field="classId",
            )
    else:
        row = Child(
            last_name=clean.last_name,
            first_name=clean.first_name,
            middle_name=clean.middle_name,
            birth_date=clean.birth_date,
            sex=clean.sex,
            snils=clean.snils,
            birth_cert_series=clean.cert_series,
            birth_cert_number=clean.cert_number,
            birth_cert_issued_on=clean.cert_issued_on,
            citizenship=clean.citizenship,
            school_id=klass.school_id,
        )
        session.add(row)
        await session.flush()
    enrollment = Enrollment(child_id=row.id, class_id=klass.id, starts_on=starts_on)
    session.add(enrollment)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="enrollChild",
        entity_type="Enrollment",
        entity_id=enrollment.id,
        school_id=klass.school_id,
        after={"childId": row.id, "classId": klass.id, "startsOn": starts_on.isoformat()},
    )
    return enrollment


@dataclass(frozen=True, slots=True)
class Move:
    ended: Enrollment
    started: Enrollment


async def move_child(session: AsyncSession, *, actor: Actor, child_id: int, to_class_id: int, on: dt.date) -> Move:
    """End the child's current enrolment the day before `on` and start one in the
    other class on `on`; both are kept."""
    target = await _school_of_class(session, to_class_id, field="toClassId")
    require_setup(actor, target.school_id)
    child = await session.get(Child, child_id)
    if child is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Ребёнок не найден", field="childId")
    current = await _open_enrollment_in_year(session, child_id, target.academic_year_id, on)
    errors = ErrorCollector()
    year = await session.get(AcademicYear, target.academic_year_id)
    assert year is not None  # noqa: S101 - a foreign key
    if current is None:
        errors.add("childId", ErrorCode.INVALID_STATE, "Ребёнок не зачислен в класс этого учебного года")
    else:
        if current.class_id == target.id:
            errors.add("toClassId", ErrorCode.INVALID, "Ребёнок уже в этом классе")
        if on <= current.starts_on:
            errors.add("on", ErrorCode.INVALID, "Дата перевода должна быть позже даты зачисления")
    if not year.starts_on <= on <= year.ends_on:
        errors.add("on", ErrorCode.INVALID, "Дата перевода должна лежать внутри учебного года")
    errors.raise_if_any()
    assert current is not None  # noqa: S101 - checked above
    before = {"classId": current.class_id, "startsOn": current.starts_on.isoformat(), "endsOn": None}
    current.ends_on = on - dt.timedelta(days=1)
    started = Enrollment(child_id=child_id, class_id=target.id, starts_on=on)
    session.add(started)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="moveChild",
        entity_type="Child",
        entity_id=child_id,
        school_id=target.school_id,
        before=before,
        after={"fromClassId": current.class_id, "toClassId": target.id, "on": on.isoformat()},
    )
    return Move(ended=current, started=started)
