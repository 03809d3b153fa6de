"""A school's report templates: createReportTemplate, updateReportTemplate, and the list a
school shows (School.reportTemplates), which starts with the built-in defaults written
when the school is made (`add_default_report_templates`).

A template belongs to one school and one kind; at most one per school and kind is the
default (the one a request without `templateId` takes). Making one the default unmarks the
previous one in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import ReportColumn, ReportGrouping, ReportKind
from ediary_gql.db.models.reports import ReportTemplate
from ediary_gql.db.models.schools import School
from ediary_gql.errors import ErrorCode, ErrorCollector, forbidden, not_found
from ediary_gql.services import audit
from ediary_gql.services.reports.template_spec import DEFAULT_NAMES, DEFAULTS, check_columns

NAME_MAX = 120
REFUSED = "Шаблоны отчётов настраивают администраторы и учителя школы"


def _check(
    errors: ErrorCollector, *, name: str | None, kind: ReportKind, columns: Sequence[ReportColumn] | None
) -> str | None:
    """Every problem of a template's fields, each at its path; the trimmed name."""
    trimmed = None
    if name is not None:
        trimmed = " ".join(name.split())
        if not trimmed:
            errors.add("name", ErrorCode.REQUIRED, "Укажите название шаблона")
        elif len(trimmed) > NAME_MAX:
            errors.add("name", ErrorCode.TOO_LONG, f"Название — не длиннее {NAME_MAX} символов")
    if columns is not None:
        check_columns(errors, kind, [ReportColumn(c) for c in columns])
    return trimmed


async def _name_taken(
    session: AsyncSession, *, school_id: int, kind: ReportKind, name: str, except_id: int | None = None
) -> bool:
    stmt = select(ReportTemplate.id).where(
        ReportTemplate.school_id == school_id, ReportTemplate.kind == kind, ReportTemplate.name == name
    )
    if except_id is not None:
        stmt = stmt.where(ReportTemplate.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


async def _unmark_default(session: AsyncSession, *, school_id: int, kind: ReportKind, except_id: int | None) -> None:
    stmt = update(ReportTemplate).where(
        ReportTemplate.school_id == school_id, ReportTemplate.kind == kind, ReportTemplate.is_default.is_(True)
    )
    if except_id is not None:
        stmt = stmt.where(ReportTemplate.id != except_id)
    await session.execute(stmt.values(is_default=False).execution_options(synchronize_session=False))
    await session.flush()


def _snapshot(row: ReportTemplate) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind.value,
        "columns": list(row.columns),
        "groupBy": row.group_by.value,
        "includeComments": row.include_comments,
        "includeRemarks": row.include_remarks,
        "isDefault": row.is_default,
    }


async def create_report_template(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    name: str,
    kind: ReportKind,
    columns: Sequence[ReportColumn],
    group_by: ReportGrouping,
    include_comments: bool,
    include_remarks: bool,
    is_default: bool,
) -> ReportTemplate:
    """A new template of the school: a school admin or a teacher of the school."""
    policy.require_confirmed(actor)
    if await session.scalar(select(School.id).where(School.id == school_id)) is None:
        raise not_found("schoolId", "Школа не найдена")
    if not policy.can_manage_report_templates(actor, school_id=school_id):
        raise forbidden(REFUSED)
    kind = ReportKind(kind)
    errors = ErrorCollector()
    trimmed = _check(errors, name=name, kind=kind, columns=columns)
    if trimmed and await _name_taken(session, school_id=school_id, kind=kind, name=trimmed):
        errors.add("name", ErrorCode.DUPLICATE, "Шаблон с таким названием уже есть")
    errors.raise_if_any()
    if is_default:
        await _unmark_default(session, school_id=school_id, kind=kind, except_id=None)
    row = ReportTemplate(
        school_id=school_id,
        created_by_id=actor.user_id,
        kind=kind,
        name=trimmed or name,
        columns=[ReportColumn(c).value for c in columns],
        group_by=ReportGrouping(group_by),
        include_comments=include_comments,
        include_remarks=include_remarks,
        is_default=is_default,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createReportTemplate",
        entity_type="ReportTemplate",
        entity_id=row.id,
        after={"schoolId": school_id, **_snapshot(row)},
        school_id=school_id,
    )
    return row


async def update_report_template(
    session: AsyncSession,
    *,
    actor: Actor,
    template_id: int,
    name: str | None,
    columns: Sequence[ReportColumn] | None,
    group_by: ReportGrouping | None,
    include_comments: bool | None,
    include_remarks: bool | None,
    is_default: bool | None,
) -> ReportTemplate:
    """Change what is given of a template (its kind stays). A report still queued is made
    with the change; one made already keeps its file as it was."""
    policy.require_confirmed(actor)
    row = await session.get(ReportTemplate, template_id, with_for_update=True)
    if row is None or not policy.can_view_report_templates(actor, school_id=row.school_id):
        raise not_found("templateId", "Шаблон отчёта не найден")
    if not policy.can_manage_report_templates(actor, school_id=row.school_id):
        raise forbidden(REFUSED)
    errors = ErrorCollector()
    trimmed = _check(errors, name=name, kind=row.kind, columns=columns)
    if trimmed and await _name_taken(session, school_id=row.school_id, kind=row.kind, name=trimmed, except_id=row.id):
        errors.add("name", ErrorCode.DUPLICATE, "Шаблон с таким названием уже есть")
    errors.raise_if_any()
    before = _snapshot(row)
    if trimmed is not None:
        row.name = trimmed
    if columns is not None:
        row.columns = [ReportColumn(c).value for c in columns]
    if group_by is not None:
        row.group_by = ReportGrouping(group_by)
    if include_comments is not None:
        row.include_comments = include_comments
    if include_remarks is not None:
        row.include_remarks = include_remarks
    if is_default is not None and is_default != row.is_default:
        if is_default:
            await _unmark_default(session, school_id=row.school_id, kind=row.kind, except_id=row.id)
        row.is_default = is_default
    await session.flush()
    after = _snapshot(row)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="updateReportTemplate",
            entity_type="ReportTemplate",
            entity_id=row.id,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
            school_id=row.school_id,
        )
    return row


# --- reading ---------------------------------------------------------------------------


def templates_query(school_ids: Sequence[int]) -> Select[ReportTemplate]:
    return (
        select(ReportTemplate)
        .where(ReportTemplate.school_id.in_(school_ids))
        .order_by(ReportTemplate.kind, ReportTemplate.is_default.desc(), ReportTemplate.name, ReportTemplate.id)
    )


async def add_default_report_templates(session: AsyncSession, *, school_id: int) -> list[ReportTemplate]:
    """The built-in template of each kind, as the new school's default (the shape a request
    without a template gets anyway); in the caller's transaction, when the school is made.
    Schools made before this existed got them from a data migration."""
    rows = [
        ReportTemplate(
            school_id=school_id,
            created_by_id=None,
            kind=kind,
            name=DEFAULT_NAMES[kind],
            columns=[c.value for c in spec.columns],
            group_by=spec.group_by,
            include_comments=spec.include_comments,
            include_remarks=spec.include_remarks,
            is_default=True,
        )
        for kind, spec in DEFAULTS.items()
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def is_built_in(row: ReportTemplate) -> bool:
    """A default written with the school (no author), not one a school made."""
    return row.created_by_id is None and row.name == DEFAULT_NAMES.get(row.kind)
