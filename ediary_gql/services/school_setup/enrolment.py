"""Enrolling children in classes and moving them between classes; every enrolment is kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.child_transfers import held_record, offer_transfers
from ediary_gql.services.school_setup.checks import get_class, require_setup
from ediary_gql.services.school_setup.children import ChildData, clean_child
from ediary_gql.services.school_time import school_today


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
    """Enrol a child (the school's own record with that SNILS or birth certificate, else a
    new one) in a class from `starts_on`; a child is in one class at a time per academic year."""
    klass = await get_class(session, class_id, field="classId")
    require_setup(actor, klass.school_id)
    errors = ErrorCollector()
    clean = clean_child(child, today=today or await school_today(session, klass.school_id))
    for key, code, message in clean.problems:
        errors.add(("child", *key.split(".")), code, message)
    if clean.snils is None and clean.cert_number is None and not clean.problems:
        errors.add(("child", "snils"), ErrorCode.REQUIRED, "Укажите СНИЛС или свидетельство о рождении")
    year = await session.get(AcademicYear, klass.academic_year_id)
    assert year is not None  # noqa: S101 - a foreign key
    if not year.starts_on <= starts_on <= year.ends_on:
        errors.add("startsOn", ErrorCode.INVALID, "Дата зачисления должна лежать внутри учебного года класса")
    errors.raise_if_any()

    # only the school's own records: a child another school holds gets a record of this
    # school's, and that school is asked to transfer its record (services/child_transfers.py)
    row = await held_record(
        session, klass.school_id, snils=clean.snils, series=clean.cert_series, number=clean.cert_number
    )
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
        row = Child(**clean.columns(), school_id=klass.school_id)
        session.add(row)
        await session.flush()
        await offer_transfers(session, records=[row], school_id=klass.school_id, requested_by_id=actor.user_id)
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
    change_feed.record(
        session, school_id=klass.school_id, type=ChangeType.ENROLLMENT, ids=[enrollment.id], action=ChangeAction.CREATED
    )
    return enrollment


@dataclass(frozen=True, slots=True)
class Move:
    ended: Enrollment
    started: Enrollment


async def move_child(session: AsyncSession, *, actor: Actor, child_id: int, to_class_id: int, on: dt.date) -> Move:
    """End the child's current enrolment the day before `on` and start one in the
    other class on `on`; both are kept."""
    target = await get_class(session, to_class_id, field="toClassId")
    require_setup(actor, target.school_id)
    child = await session.get(Child, child_id)
    if child is None or child.school_id != target.school_id:  # another school's child: as if none
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
    for changed, action in ((current, ChangeAction.UPDATED), (started, ChangeAction.CREATED)):
        change_feed.record(
            session, school_id=target.school_id, type=ChangeType.ENROLLMENT, ids=[changed.id], action=action
        )
    return Move(ended=current, started=started)
