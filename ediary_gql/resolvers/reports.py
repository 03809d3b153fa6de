"""Reports: requestReport, the templates and remarks mutations, myReports, a school's
templates, a child's remarks, the fields of a report that need rows, and reportEvents.
Inputs come decoded (schema/ids.py); results are rows and pages, turned into types by
schema/reports.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.ids import parse_id
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import (
    ReportColumn,
    ReportFormat,
    ReportGrouping,
    ReportKind,
    ReportScope,
    ReportStatus,
)
from ediary_gql.db.models.reports import Report, ReportRemark, ReportTemplate
from ediary_gql.db.models.schools import School
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.resolvers import enrolments, pages
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import diary as diary_service
from ediary_gql.services.reports import names, remarks, requests, templates

if TYPE_CHECKING:
    from ediary_gql.context import Context

# The node type a request's targetId names, per scope.
TARGET_TYPES: dict[ReportScope, str] = {
    ReportScope.CHILD: "Child",
    ReportScope.CLASS: "SchoolClass",
    ReportScope.SCHOOL: "School",
}


def _target_pk(scope: ReportScope, target_id: Any) -> int:
    """The id inside targetId, which must name the type the scope asks for."""
    expected = TARGET_TYPES[scope]
    found = parse_id(str(target_id.node_id)) if getattr(target_id, "type_name", None) == expected else None
    if found is None:
        raise DomainError(ErrorCode.INVALID, f"Ожидается идентификатор типа {expected}", field="targetId")
    return found


async def request_report(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    kind: ReportKind,
    scope: ReportScope,
    target_id: Any,  # a global ID of the scope's type
    period_id: int | None,
    from_: dt.date | None,
    to: dt.date | None,
    format: ReportFormat,
    template_id: int | None,
) -> Report:
    scope = ReportScope(scope)
    return await requests.request_report(
        session,
        actor=actor,
        kind=ReportKind(kind),
        scope=scope,
        target_id=_target_pk(scope, target_id),
        period_id=period_id,
        date_from=from_,
        date_to=to,
        format=ReportFormat(format),
        template_id=template_id,
        queue_limit=ctx.settings.report_queue_limit,
    )


async def create_report_template(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    name: str,
    kind: ReportKind,
    columns: list[ReportColumn],
    group_by: ReportGrouping,
    include_comments: bool,
    include_remarks: bool,
    is_default: bool,
) -> ReportTemplate:
    return await templates.create_report_template(
        session,
        actor=actor,
        school_id=school_id,
        name=name,
        kind=ReportKind(kind),
        columns=[ReportColumn(c) for c in columns],
        group_by=ReportGrouping(group_by),
        include_comments=include_comments,
        include_remarks=include_remarks,
        is_default=is_default,
    )


async def update_report_template(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    template_id: int,
    name: str | None,
    columns: list[ReportColumn] | None,
    group_by: ReportGrouping | None,
    include_comments: bool | None,
    include_remarks: bool | None,
    is_default: bool | None,
) -> ReportTemplate:
    return await templates.update_report_template(
        session,
        actor=actor,
        template_id=template_id,
        name=name,
        columns=None if columns is None else [ReportColumn(c) for c in columns],
        group_by=None if group_by is None else ReportGrouping(group_by),
        include_comments=include_comments,
        include_remarks=include_remarks,
        is_default=is_default,
    )


async def add_report_remark(
    ctx: Context, session: AsyncSession, actor: Actor, *, child_id: int, period_id: int, text: str
) -> ReportRemark:
    return await remarks.add_report_remark(session, actor=actor, child_id=child_id, period_id=period_id, text=text)


# --- reading ------------------------------------------------------------------------------


async def my_reports(
    ctx: Context,
    *,
    paging: PageArgs,
    status: ReportStatus | None = None,
    kind: ReportKind | None = None,
) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    stmt = requests.my_reports_query(actor)
    if status is not None:
        stmt = stmt.where(Report.status == ReportStatus(status))
    if kind is not None:
        stmt = stmt.where(Report.kind == ReportKind(kind))
    return await pages.page(ctx, stmt, paging, descending=True)


def may_view_report(ctx: Context, row: Report) -> bool:
    return policy.can_view_report(ctx.actor, requested_by_id=row.requested_by_id)


async def may_view_templates(ctx: Context, school_id: int) -> bool:
    actor = ctx.actor
    if policy.can_view_report_templates(actor, school_id=school_id):
        return True
    family = await enrolments.family_school_ids(ctx)
    return policy.can_view_report_templates(actor, school_id=school_id, family_school_ids=family)


async def _templates(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, ReportTemplate]]:
    rows = await session.scalars(templates.templates_query(school_ids))
    return [(r.school_id, r) for r in rows]


async def school_report_templates(ctx: Context, school_id: int) -> list[ReportTemplate] | None:
    """The school's templates, defaults first per kind; null unless the viewer may see
    them. A plain read: the built-in defaults were written with the school."""
    if not await may_view_templates(ctx, school_id):
        return None
    return await ctx.loaders.grouped(_templates).load(school_id)


def template_is_built_in(row: ReportTemplate) -> bool:
    return templates.is_built_in(row)


async def template(ctx: Context, template_id: int | None) -> ReportTemplate | None:
    if template_id is None:
        return None
    row = await ctx.loaders.by_id(ReportTemplate).load(template_id)
    return row if row is not None and await may_view_templates(ctx, row.school_id) else None


_READABLE: LoaderKey[int, bool] = LoaderKey("reports.readable_children")


async def may_read_child(ctx: Context, child_id: int) -> bool:
    """Whether the viewer may read the child's diary (every child of a response at once)."""
    actor = ctx.actor
    if actor is None:
        return False

    async def batch(children: list[int]) -> Sequence[bool]:
        async with ctx.read_session_factory() as session:
            readable = await diary_service.readable_children(session, actor=actor, child_ids=children)
        return [c in readable for c in children]

    return await ctx.loaders.get(_READABLE, batch).load(child_id)


_REMARKS: LoaderKey[tuple[int, int | None], list[ReportRemark]] = LoaderKey("reports.remarks")


async def child_report_remarks(ctx: Context, *, child_id: int, period_id: int | None) -> list[ReportRemark] | None:
    """The child's remarks (of one period, or all), oldest first; null unless the viewer
    may read the child's diary."""
    if not await may_read_child(ctx, child_id):
        return None

    actor = policy.require_actor(ctx.actor)

    async def batch(keys: list[tuple[int, int | None]]) -> Sequence[list[ReportRemark]]:
        async with ctx.read_session_factory() as session:
            return await remarks.remarks_of(session, actor=actor, keys=keys)

    return await ctx.loaders.get(_REMARKS, batch).load((child_id, period_id))


async def may_view_remark(ctx: Context, row: ReportRemark) -> bool:
    """node(id:) on a remark: whether it is among those Child.reportRemarks shows the
    viewer (the same rule and loader: the period's school, the subject's teachers)."""
    shown = await child_report_remarks(ctx, child_id=row.child_id, period_id=row.period_id)
    return shown is not None and any(r.id == row.id for r in shown)


# --- fields of a report -------------------------------------------------------------------


async def report_names(ctx: Context, row: Report) -> names.ReportNames:
    """The target's and the period's names, through the per-request loaders (every report
    of a response in one statement per table). The requester could see the target when
    asking; the name is what they were told then."""
    target = ""
    if row.scope is ReportScope.CHILD:
        child = await ctx.loaders.by_id(Child).load(row.scope_id)
        target = "" if child is None else " ".join(p for p in (child.last_name, child.first_name) if p)
    elif row.scope is ReportScope.CLASS:
        found = await ctx.loaders.by_id(SchoolClass).load(row.scope_id)
        target = "" if found is None else f"{found.level}{found.letter}"
    else:
        school = await ctx.loaders.by_id(School).load(row.scope_id)
        target = "" if school is None else school.short_name
    period = None if row.period_id is None else await ctx.loaders.by_id(Period).load(row.period_id)
    return names.ReportNames(target=target, period=None if period is None else period.name)


def is_downloadable(row: Report) -> bool:
    """READY and its file not yet past its expiry."""
    return row.status is ReportStatus.READY and (row.expires_at is None or row.expires_at > utcnow())


def download_url(ctx: Context, report_global_id: str) -> str:
    return str(ctx.request.url_for(requests.REPORT_FILE_ROUTE, report_id=report_global_id))


# --- live changes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportChange:
    """A status change of a report: the status the event tells of, and the report now."""

    status: ReportStatus
    report: Report


def report_feed(ctx: Context) -> Feed[ReportChange]:
    """Each status change of the signed-in user's own reports, as it is committed."""
    user_id = policy.require_actor(ctx.actor).user_id

    async def may_follow(scoped: Context) -> bool:
        return scoped.actor is not None and scoped.actor.user_id == user_id and not scoped.actor.is_system

    async def read(scoped: Context, heard: Heard) -> ReportChange | None:
        report_id, status = heard.event.get("report_id"), heard.event.get("status")
        if not isinstance(report_id, int) or not isinstance(status, str):
            return None
        row = await scoped.loaders.by_id(Report).load(report_id)
        if row is None or not may_view_report(scoped, row):
            return None
        return ReportChange(status=ReportStatus(status), report=row)

    return Feed(
        channels=[channels.user_reports(user_id)],
        may_follow=may_follow,
        read=read,
        refused="За отчётами следит только тот, кто их запросил",
    )
