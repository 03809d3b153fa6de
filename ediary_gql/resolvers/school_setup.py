"""School setup: academic years, subjects, control types, classes, teachers (invitations
and assignments), enrolments. Inputs come decoded (schema/ids.py, nested inputs as
`Fields`); results are rows or small results, turned into types by schema/school_setup.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.grades import ControlType
from ediary_gql.resolvers.transaction import after_commit
from ediary_gql.services.delivery.channels import DeliveryError, build_channels
from ediary_gql.services.school_setup import academic_years, children, classes, enrolment, subjects, teachers
from ediary_gql.services.school_setup.teachers import invited_binding_ids

if TYPE_CHECKING:
    from ediary_gql.context import Context

log = structlog.get_logger(__name__)


async def create_academic_year(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    period_kind: enums.PeriodKind,
    periods: list[Any],  # each: name, starts_on, ends_on
    holidays: list[Any],
) -> AcademicYear:
    data = academic_years.NewAcademicYear(
        school_id=school_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        period_kind=enums.PeriodKind(period_kind),
        periods=[academic_years.DateRange(p.name, p.starts_on, p.ends_on) for p in periods],
        holidays=[academic_years.DateRange(h.name, h.starts_on, h.ends_on) for h in holidays],
    )
    return await academic_years.create_academic_year(session, actor=actor, data=data)


async def create_subject(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, name: str, short_name: str | None
) -> Subject:
    return await subjects.create_subject(session, actor=actor, school_id=school_id, name=name, short_name=short_name)


async def create_control_type(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, code: str, name: str, weight: Decimal
) -> ControlType:
    return await subjects.create_control_type(
        session, actor=actor, school_id=school_id, code=code, name=name, weight=weight
    )


async def create_class(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    academic_year_id: int,
    level: int,
    letter: str,
    homeroom_teacher_id: int | None,
) -> SchoolClass:
    return await classes.create_class(
        session,
        actor=actor,
        school_id=school_id,
        academic_year_id=academic_year_id,
        level=level,
        letter=letter,
        homeroom_teacher_id=homeroom_teacher_id,
    )


async def invite_teacher(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, phone: str | None, email: str | None
) -> teachers.Invitation:
    result = await teachers.invite_teacher(session, actor=actor, school_id=school_id, phone=phone, email=email)
    if result.outside_message is not None:
        # No account to notify: the message goes out once the invitation is committed.
        channel, address, subject, body = result.outside_message

        async def send() -> None:
            sender = build_channels(ctx.settings, ctx.session_factory).get(channel)
            try:
                if sender is None:
                    raise DeliveryError(f"no {channel} provider")
                await sender.send(address=address, subject=subject, body=body)
            except DeliveryError as exc:
                log.warning("invitation_not_sent", channel=channel.value, error=str(exc))

        after_commit(session, send)
    return result


async def _invited(session: AsyncSession, binding_ids: list[int]) -> list[tuple[int, bool]]:
    return [(i, True) for i in await invited_binding_ids(session, binding_ids)]


async def binding_invited(context: Context, binding_id: int) -> bool:
    """Was the requester of this staff binding invited (inviteTeacher) to teach at its school?"""
    return bool(await context.loaders.grouped(_invited).load(binding_id))


async def assign_teacher(
    ctx: Context, session: AsyncSession, actor: Actor, *, teacher_id: int, class_id: int, subject_id: int
) -> TeachingAssignment:
    return await teachers.assign_teacher(
        session, actor=actor, teacher_id=teacher_id, class_id=class_id, subject_id=subject_id
    )


async def unassign_teacher(ctx: Context, session: AsyncSession, actor: Actor, *, assignment_id: int) -> int:
    """The id of the assignment removed."""
    await teachers.unassign_teacher(session, actor=actor, assignment_id=assignment_id)
    return assignment_id


@dataclass(frozen=True, slots=True)
class EnrolledChild:
    enrollment: Enrollment
    child: Child | None


async def enroll_child(
    ctx: Context, session: AsyncSession, actor: Actor, *, class_id: int, child: Any, starts_on: dt.date
) -> EnrolledChild:
    cert = child.birth_certificate
    data = children.ChildData(
        last_name=child.last_name,
        first_name=child.first_name,
        middle_name=child.middle_name,
        birth_date=child.birth_date,
        sex=enums.Sex(child.sex),
        snils=child.snils,
        cert_series=cert.series if cert else None,
        cert_number=cert.number if cert else None,
        cert_issued_on=cert.issued_on if cert else None,
        citizenship=child.citizenship,
    )
    row = await enrolment.enroll_child(session, actor=actor, class_id=class_id, child=data, starts_on=starts_on)
    return EnrolledChild(enrollment=row, child=await session.get(Child, row.child_id))


async def move_child(
    ctx: Context, session: AsyncSession, actor: Actor, *, child_id: int, to_class_id: int, on: dt.date
) -> enrolment.Move:
    return await enrolment.move_child(session, actor=actor, child_id=child_id, to_class_id=to_class_id, on=on)
