"""Submission: every field checked again, a number on first submission, a due date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application, ApplicationAttachment, ApplicationNumberCounter
from ediary_gql.db.models.enums import ApplicationStatus
from ediary_gql.db.models.schools import School
from ediary_gql.errors import ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import numbering
from ediary_gql.services.applications.deadlines import due_date, local_date
from ediary_gql.services.applications.form import (
    ApplicationData,
    ChildData,
    check_complete,
    check_form,
    child_columns,
)
from ediary_gql.services.applications.notices import notify_admins_of_new, notify_applicant
from ediary_gql.services.applications.queries import get_visible
from ediary_gql.services.applications.status import WITH_SCHOOL, A, S, next_status, not_allowed, transition


async def next_number(session: AsyncSession, year: int) -> str:
    """ "ED-<year>-<6 digits>": never shared by two submissions."""
    return f"ED-{year}-{await numbering.next_in_year(session, ApplicationNumberCounter, year):06d}"


async def submit_application(
    session: AsyncSession, *, actor: Actor, application_id: int, now: dt.datetime | None = None
) -> Application:
    """Check everything (all problems at once, each with its field path); give the
    application its number (on first submission) and a due date 5 working days ahead."""
    app = await get_visible(session, actor, application_id, lock=True)
    if not policy.can_edit_application(actor, applicant_id=app.applicant_id):
        raise forbidden("Подать заявку может только заявитель")
    policy.require_may_apply(actor)
    status = ApplicationStatus(app.status)
    target = next_status(status, A.SUBMIT)
    if target is None:
        raise not_allowed(status, A.SUBMIT, "applicationId")
    now = now or utcnow()
    errors = ErrorCollector()
    # the stored form is checked again: the school or the class may have changed since
    stored = ApplicationData(
        child=ChildData(**child_columns(app)),
        region_code=app.region_code,
        settlement_id=app.settlement_id,
        school_id=app.school_id,
        class_id=app.class_id,
    )
    await check_form(session, errors, stored, now.date())
    kinds = set(
        (
            await session.scalars(
                select(ApplicationAttachment.kind).where(ApplicationAttachment.application_id == app.id)
            )
        ).all()
    )
    check_complete(errors, app, kinds)
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
    await transition(session, app, actor=actor, action=A.SUBMIT, expected=status, values=values)
    await notify_applicant(session, app, action=A.SUBMIT)
    await notify_admins_of_new(session, app, school, resubmitted=status == S.NEEDS_CORRECTION)
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
