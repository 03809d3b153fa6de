"""Approval: the child record (found or made), the guardianship and the class enrolment,
in the transaction that approves the application."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import changes as change_feed
from ediary_gql.services.applications.deadlines import local_date
from ediary_gql.services.applications.form import RUSSIA, child_columns
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.child_transfers import held_record


async def grant_access(session: AsyncSession, app: Application, child: Child, *, now: dt.datetime) -> None:
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
    ended: list[int] = []
    for enrollment in open_in_year:
        if enrollment.class_id == school_class.id:
            already = True
        else:
            enrollment.ends_on = max(enrollment.starts_on, starts_on - dt.timedelta(days=1))
            ended.append(enrollment.id)
    started = None if already else Enrollment(child_id=child.id, class_id=school_class.id, starts_on=starts_on)
    if started is not None:
        session.add(started)
    await session.flush()
    # the school's change feed (services/changes.py)
    school_id = school_class.school_id
    change_feed.record(session, school_id=school_id, type=ChangeType.ENROLLMENT, ids=ended, action=ChangeAction.UPDATED)
    if started is not None:
        change_feed.record(
            session, school_id=school_id, type=ChangeType.ENROLLMENT, ids=[started.id], action=ChangeAction.CREATED
        )


async def find_or_create_child(session: AsyncSession, app: Application) -> tuple[Child, bool]:
    """The school's own record with the application's SNILS, else birth certificate; else a
    new record of the school's (and True). Never another school's record: a child that
    school holds is asked for by a transfer (services/child_transfers.py)."""
    assert app.school_id is not None  # noqa: S101 - a submitted application names its school
    child = await held_record(
        session, app.school_id, snils=app.child_snils, series=app.birth_cert_series, number=app.birth_cert_number
    )
    if child is not None:
        if (
            child.snils is None
            and app.child_snils
            and not await held_record(session, app.school_id, snils=app.child_snils, series=None, number=None)
        ):  # the school's record found by its certificate takes the SNILS no other record of its has
            child.snils = app.child_snils
        return child, False
    if not (app.child_last_name and app.child_first_name and app.child_birth_date and app.child_sex):
        raise DomainError(ErrorCode.REQUIRED, "Сведения о ребёнке не заполнены", field="child")
    child = Child(**{**child_columns(app), "citizenship": app.citizenship or RUSSIA, "school_id": app.school_id})
    session.add(child)
    await session.flush()
    return child, True
