"""Asking for a report: the checks, the QUEUED row, and what the requester reads back.

`request_report` validates the input (every problem with its field path), asks the policy
who may ask for the target, and queues the report; the worker (worker.py) makes it. The
requester alone sees their reports (`my_reports_query`) and downloads their files
(`report_for_download`, behind the route `REPORT_FILE_ROUTE`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope, ReportStatus, StaffRole
from ediary_gql.db.models.reports import Report, ReportTemplate
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, RateLimited, forbidden, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ReportChanged, ReportsQueued
from ediary_gql.services import audit

# The download route's name, for `request.url_for(REPORT_FILE_ROUTE, report_id=<global ID>)`.
REPORT_FILE_ROUTE = "report_file"
REPORT_FILE_PATH = "/reports/{report_id}/file"
MAX_DAYS = 366  # the longest report: a school year
QUEUE_LIMIT = 5  # reports one user may have queued or running at once (REPORT_QUEUE_LIMIT)
ACTIVE = (ReportStatus.QUEUED, ReportStatus.RUNNING)
REFUSED = {
    ReportScope.CHILD: "Отчёт по ребёнку доступен тем, кто видит его дневник",
    ReportScope.CLASS: "Отчёт по классу доступен администраторам школы и учителям класса",
    ReportScope.SCHOOL: "Отчёт по школе доступен её администраторам",
}
NOT_FOUND = {
    ReportScope.CHILD: "Ребёнок не найден",
    ReportScope.CLASS: "Класс не найден",
    ReportScope.SCHOOL: "Школа не найдена",
}


@dataclass(frozen=True, slots=True)
class _Dates:
    start: dt.date
    end: dt.date
    period_school_id: int | None  # the period's school, when a period was given


def _check_shape(period_id: int | None, date_from: dt.date | None, date_to: dt.date | None) -> None:
    """A period, or both dates in order and at most MAX_DAYS apart."""
    errors = ErrorCollector()
    if period_id is not None:
        if date_from is not None or date_to is not None:
            errors.add("periodId", ErrorCode.INVALID, "Укажите либо учебный период, либо даты — не то и другое")
    else:
        if date_from is None:
            errors.add("from", ErrorCode.REQUIRED, "Укажите учебный период или дату начала")
        if date_to is None:
            errors.add("to", ErrorCode.REQUIRED, "Укажите учебный период или дату окончания")
        if date_from is not None and date_to is not None:
            if date_to < date_from:
                errors.add("to", ErrorCode.INVALID, "Дата окончания раньше даты начала")
            elif (date_to - date_from).days + 1 > MAX_DAYS:
                errors.add("to", ErrorCode.INVALID, f"Отчёт охватывает не больше {MAX_DAYS} дней")
    errors.raise_if_any()


async def _dates(
    session: AsyncSession, period_id: int | None, date_from: dt.date | None, date_to: dt.date | None
) -> _Dates:
    if period_id is None:
        if date_from is None or date_to is None:  # _check_shape refused it already
            raise DomainError(ErrorCode.REQUIRED, "Укажите учебный период или даты", field="from")
        return _Dates(date_from, date_to, None)
    row = (
        await session.execute(
            select(Period.starts_on, Period.ends_on, AcademicYear.school_id)
            .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
            .where(Period.id == period_id)
        )
    ).first()
    if row is None:
        raise not_found("periodId", "Учебный период не найден")
    return _Dates(row[0], row[1], int(row[2]))


def _teaches(class_id: Any, user_id: int) -> Any:
    """Whether the user is the class's homeroom teacher or teaches a subject in it."""
    assigned = exists().where(TeachingAssignment.class_id == class_id, TeachingAssignment.teacher_id == user_id)
    return or_(SchoolClass.homeroom_teacher_id == user_id, assigned)


async def _child_school(session: AsyncSession, actor: Actor, child_id: int, dates: _Dates) -> int:
    """The school a child's report is of; FORBIDDEN unless the actor may ask for it."""
    if await session.scalar(select(Child.id).where(Child.id == child_id)) is None:
        raise not_found("targetId", NOT_FOUND[ReportScope.CHILD])
    # the child's classes over the dates: their schools, and whether the actor teaches there
    enrolments: Sequence[Any] = (
        await session.execute(
            select(SchoolClass.school_id, Enrollment.starts_on, _teaches(Enrollment.class_id, actor.user_id))
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(
                Enrollment.child_id == child_id,
                Enrollment.starts_on <= dates.end,
                or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= dates.start),
            )
            .order_by(Enrollment.starts_on.desc())
        )
    ).all()
    schools = frozenset(int(e[0]) for e in enrolments)
    if not policy.can_request_child_report(
        actor, child_id=child_id, school_ids=schools, teaches_class=any(bool(e[2]) for e in enrolments)
    ):
        raise forbidden(REFUSED[ReportScope.CHILD])
    if not schools:
        raise DomainError(
            ErrorCode.INVALID,
            "В эти даты ребёнок не учился ни в одном классе",
            field="from" if dates.period_school_id is None else "periodId",
        )
    if dates.period_school_id is not None:
        if dates.period_school_id not in schools:
            raise DomainError(ErrorCode.INVALID, "Учебный период другой школы", field="periodId")
        return dates.period_school_id
    # a child who changed schools within the dates: the actor's own school, else the latest
    own = [int(e[0]) for e in enrolments if actor.has_role(int(e[0]), StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)]
    return own[0] if own else int(enrolments[0][0])


async def _target_school(session: AsyncSession, actor: Actor, scope: ReportScope, target_id: int, dates: _Dates) -> int:
    """The school the report is of; NOT_FOUND at targetId, FORBIDDEN by the policy."""
    if scope is ReportScope.CHILD:
        return await _child_school(session, actor, target_id, dates)
    if scope is ReportScope.CLASS:
        row = (
            await session.execute(
                select(SchoolClass.school_id, _teaches(SchoolClass.id, actor.user_id)).where(
                    SchoolClass.id == target_id
                )
            )
        ).first()
        if row is None:
            raise not_found("targetId", NOT_FOUND[scope])
        school_id = int(row[0])
        allowed = policy.can_request_class_report(actor, school_id=school_id, teaches_class=bool(row[1]))
    else:
        if await session.scalar(select(School.id).where(School.id == target_id)) is None:
            raise not_found("targetId", NOT_FOUND[scope])
        school_id = target_id
        allowed = policy.can_request_school_report(actor, school_id=school_id)
    if not allowed:
        raise forbidden(REFUSED[scope])
    return school_id


async def _template_id(
    session: AsyncSession, *, template_id: int | None, school_id: int, kind: ReportKind
) -> int | None:
    """The template chosen (the school's, of the kind), or the school's default for the kind
    (None: the built-in default); the report keeps it, so its shape is fixed when asked."""
    if template_id is None:
        return await session.scalar(
            select(ReportTemplate.id).where(
                ReportTemplate.school_id == school_id,
                ReportTemplate.kind == kind,
                ReportTemplate.is_default.is_(True),
            )
        )
    row = (
        await session.execute(
            select(ReportTemplate.school_id, ReportTemplate.kind).where(ReportTemplate.id == template_id)
        )
    ).first()
    if row is None or int(row[0]) != school_id:
        raise not_found("templateId", "Шаблон отчёта не найден в этой школе")
    if row[1] != kind:
        raise DomainError(ErrorCode.INVALID, "Шаблон сделан для отчётов другого вида", field="templateId")
    return template_id


async def _check_queue(session: AsyncSession, actor: Actor, limit: int) -> None:
    """RATE_LIMITED when the user has `limit` reports queued or running already."""
    if session.get_bind().dialect.name == "postgresql":
        # one request of a user at a time, so two at once cannot both pass the count
        await session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
    active = await session.scalar(
        select(func.count(Report.id)).where(Report.requested_by_id == actor.user_id, Report.status.in_(ACTIVE))
    )
    if int(active or 0) >= limit:
        raise RateLimited(
            f"Уже готовятся {limit} ваших отчётов: дождитесь, пока они будут готовы",
            retry_after_seconds=60,
        )


async def request_report(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: ReportKind,
    scope: ReportScope,
    target_id: int,
    period_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    format: ReportFormat,
    template_id: int | None,
    queue_limit: int = QUEUE_LIMIT,
) -> Report:
    """Queue a report of `kind` on a child, class or school (`scope`, `target_id`) over a
    period or dates, in `format`, shaped by a template of its school (or the default).
    The worker is woken after commit; the requester hears a ReportChanged."""
    policy.require_confirmed(actor)
    _check_shape(period_id, date_from, date_to)
    dates = await _dates(session, period_id, date_from, date_to)
    school_id = await _target_school(session, actor, scope, target_id, dates)
    if dates.period_school_id is not None and dates.period_school_id != school_id:
        raise DomainError(ErrorCode.INVALID, "Учебный период другой школы", field="periodId")
    chosen_template = await _template_id(session, template_id=template_id, school_id=school_id, kind=kind)
    await _check_queue(session, actor, queue_limit)
    report = Report(
        requested_by_id=actor.user_id,
        school_id=school_id,
        kind=kind,
        scope=scope,
        scope_id=target_id,
        period_id=period_id,
        date_from=dates.start,
        date_to=dates.end,
        format=format,
        template_id=chosen_template,
        status=ReportStatus.QUEUED,
        attempts=0,
    )
    session.add(report)
    await session.flush()
    target_key = {ReportScope.CHILD: "childId", ReportScope.CLASS: "classId", ReportScope.SCHOOL: "schoolId"}[scope]
    audit.record(
        session,
        actor=actor,
        action="requestReport",
        entity_type="Report",
        entity_id=report.id,
        after={
            "kind": kind.value,
            "scope": scope.value,
            target_key: target_id,
            "periodId": period_id,
            "from": dates.start.isoformat(),
            "to": dates.end.isoformat(),
            "format": format.value,
            "reportTemplateId": chosen_template,
        },
        school_id=school_id,
    )
    queue_event(session, ReportChanged(report_id=report.id, requester_id=actor.user_id, status=report.status.value))
    queue_event(session, ReportsQueued())
    return report


def my_reports_query(actor: Actor) -> Select[Report]:
    """The actor's own reports, newest first (page by `Report.id`, descending)."""
    return select(Report).where(Report.requested_by_id == actor.user_id).order_by(Report.id.desc())


async def report_for_download(session: AsyncSession, *, actor: Actor, report_id: int) -> Report | None:
    """The report whose file the actor may download: theirs, READY — or EXPIRED, which the
    route answers with 410 Gone (the file is deleted). None for anything else, alike."""
    report = await session.get(Report, report_id)
    if report is None or not policy.can_download_report(actor, requested_by_id=report.requested_by_id):
        return None
    if report.status not in (ReportStatus.READY, ReportStatus.EXPIRED):
        return None
    return report
