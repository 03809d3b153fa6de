"""A report's document: what the requester may see of the diary, for the report's
target, dates and template. The worker renders it; nothing here knows the format.

The requester is read afresh (services/sessions.load_actors), so a report asked for by
someone who has since lost access to its target fails rather than shows it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.enums import ReportKind, ReportScope
from ediary_gql.db.models.reports import Report, ReportTemplate
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.reports.document import ReportDocument, Section
from ediary_gql.services.reports import attendance, headings, progress, visibility
from ediary_gql.services.reports.remarks_section import remarks_section
from ediary_gql.services.reports.template_spec import spec_of
from ediary_gql.services.reports.visibility import Frame
from ediary_gql.services.sessions import load_actors


async def build_document(session: AsyncSession, report: Report, *, now: dt.datetime) -> ReportDocument:
    """The document of a report, as its requester may see it (now: when it is made).
    DomainError (in Russian) when it cannot be made: the target gone, access lost."""
    school = await session.get(School, report.school_id)
    if school is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="targetId")
    actor = (await load_actors(session, [report.requested_by_id])).get(report.requested_by_id)
    if actor is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Пользователь, заказавший отчёт, не найден")
    template = await session.get(ReportTemplate, report.template_id) if report.template_id is not None else None
    if template is not None and (template.kind != report.kind or template.school_id != school.id):
        template = None  # not this report's: the kind's default
    period = await session.get(Period, report.period_id) if report.period_id is not None else None
    frame = Frame(
        viewer=await visibility.viewer_of(session, actor, school.id),
        spec=spec_of(template, report.kind),
        kind=report.kind,
        date_from=report.date_from,
        date_to=report.date_to,
        zone=school.timezone,
    )
    target, sections = await _sections(session, frame, report.scope, report.scope_id, school)
    return ReportDocument(
        title=headings.title(report.kind, target),
        school_name=school.short_name,
        period_label=headings.period_label(period.name if period else None, report.date_from, report.date_to),
        made_at=headings.made_at(now, school.timezone),
        sections=tuple(sections),
    )


async def _sections(
    session: AsyncSession, frame: Frame, scope: ReportScope, target_id: int, school: School
) -> tuple[str, list[Section]]:
    """The name the title gives the target, and the sections."""
    progress_kind = frame.kind is ReportKind.PROGRESS
    if scope is ReportScope.CHILD:
        pupil, label = await visibility.child_target(session, frame, target_id)
        module = progress if progress_kind else attendance
        sections = await module.child_sections(session, frame, pupil)
        if frame.spec.include_remarks:
            sections.append(await remarks_section(session, frame, [pupil], by_child=False))
        return label, sections
    if scope is ReportScope.CLASS:
        school_class, pupils = await visibility.class_target(session, frame, target_id)
        if progress_kind:
            sections = await progress.class_sections(session, frame, pupils)
        else:
            sections = await attendance.class_sections(session, frame, school_class.id, pupils)
        if frame.spec.include_remarks:
            sections.append(await remarks_section(session, frame, pupils, by_child=True))
        return school_class.name, sections
    if target_id != school.id:
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="targetId")
    visibility.require_school(frame)
    module_sections = (
        await progress.school_sections(session, frame)
        if progress_kind
        else await attendance.school_sections(session, frame)
    )
    return school.short_name, module_sections
