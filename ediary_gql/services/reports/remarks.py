"""Teachers' explanatory remarks on a child's period (addReportRemark), shown in the
remarks section of the child's reports and as Child.reportRemarks.

A remark is written by a teacher of the child's class in that period (any subject in it,
or its homeroom) or an admin of the period's school. It is read by the family and the
school's admins; by staff of the period's school who may read the child's diary, a
remark on a subject only by those who teach it in the child's class
(policy.can_view_report_remark; node() asks the same)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.reports import ReportRemark
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden, not_found
from ediary_gql.services import audit

TEXT_MAX = 4000
REFUSED = "Замечание к отчёту пишут учителя класса ребёнка и администраторы школы"


async def add_report_remark(
    session: AsyncSession, *, actor: Actor, child_id: int, period_id: int, text: str
) -> ReportRemark:
    """A remark on the child's period, by one who teaches the child's class in the period's
    school then (or its homeroom teacher) or an admin of that school; audited."""
    policy.require_confirmed(actor)
    errors = ErrorCollector()
    body = text.strip()
    if not body:
        errors.add("text", ErrorCode.REQUIRED, "Напишите замечание")
    elif len(body) > TEXT_MAX:
        errors.add("text", ErrorCode.TOO_LONG, f"Замечание — не длиннее {TEXT_MAX} символов")
    if await session.scalar(select(Child.id).where(Child.id == child_id)) is None:
        raise not_found("childId", "Ребёнок не найден")
    period = (
        await session.execute(
            select(Period.starts_on, Period.ends_on, AcademicYear.school_id)
            .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
            .where(Period.id == period_id)
        )
    ).first()
    if period is None:
        raise not_found("periodId", "Учебный период не найден")
    starts_on, ends_on, school_id = period[0], period[1], int(period[2])
    assigned = exists().where(
        TeachingAssignment.class_id == Enrollment.class_id, TeachingAssignment.teacher_id == actor.user_id
    )
    # the child's classes of the period's school over the period, and whether the actor teaches one
    enrolments: Sequence[Any] = (
        await session.execute(
            select(Enrollment.class_id, or_(SchoolClass.homeroom_teacher_id == actor.user_id, assigned))
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(
                Enrollment.child_id == child_id,
                SchoolClass.school_id == school_id,
                Enrollment.starts_on <= ends_on,
                or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= starts_on),
            )
        )
    ).all()
    teaches = any(bool(e[1]) for e in enrolments)
    if not policy.can_add_report_remark(actor, school_id=school_id, teaches_child=teaches):
        raise forbidden(REFUSED)
    if not enrolments:
        raise DomainError(ErrorCode.INVALID, "В этом периоде ребёнок не учился в этой школе", field="periodId")
    errors.raise_if_any()
    row = ReportRemark(child_id=child_id, period_id=period_id, author_id=actor.user_id, text=body)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="addReportRemark",
        entity_type="ReportRemark",
        entity_id=row.id,
        after={"childId": child_id, "periodId": period_id, "text": body},
        school_id=school_id,
    )
    return row


async def remarks_of(
    session: AsyncSession, *, actor: Actor, keys: Sequence[tuple[int, int | None]]
) -> list[list[ReportRemark]]:
    """Each (child, period or None) key's remarks that the actor may see, oldest first,
    in one statement with the facts the policy decides on. The caller has checked that
    the actor may read each child's diary."""
    children = sorted({child for child, _ in keys})
    in_class = (
        select(Enrollment.id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(
            Enrollment.child_id == ReportRemark.child_id,
            SchoolClass.school_id == AcademicYear.school_id,
            or_(
                SchoolClass.homeroom_teacher_id == actor.user_id,
                exists()
                .where(
                    TeachingAssignment.class_id == SchoolClass.id,
                    TeachingAssignment.teacher_id == actor.user_id,
                    or_(ReportRemark.subject_id.is_(None), TeachingAssignment.subject_id == ReportRemark.subject_id),
                )
                .correlate_except(TeachingAssignment),
            ),
        )
        .correlate(ReportRemark, AcademicYear)
        .exists()
    )
    rows = (
        await session.execute(
            select(ReportRemark, AcademicYear.school_id, in_class)
            .join(Period, Period.id == ReportRemark.period_id)
            .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
            .where(ReportRemark.child_id.in_(children))
            .order_by(ReportRemark.child_id, ReportRemark.id)
        )
    ).all()
    seen = [
        row
        for row, school_id, teaches in rows
        if policy.can_view_report_remark(
            actor,
            child_id=row.child_id,
            school_id=int(school_id),
            on_subject=row.subject_id is not None,
            teaches=bool(teaches),
        )
    ]
    return [
        [r for r in seen if r.child_id == child and (period is None or r.period_id == period)] for child, period in keys
    ]
