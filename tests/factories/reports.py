"""Report requests, templates and remarks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import ReportFormat, ReportGrouping, ReportKind, ReportScope, ReportStatus
from ediary_gql.db.models.reports import Report, ReportRemark, ReportTemplate
from ediary_gql.services.reports.template_spec import DEFAULTS
from tests.factories._base import SCHOOL_YEAR_START, now, persist, seq, take_parents
from tests.factories.calendar import make_period
from tests.factories.children import make_child
from tests.factories.schools import make_school, make_school_admin, make_teacher


async def make_report(session: AsyncSession, **overrides: Any) -> Report:
    """A school's progress report for September–October, asked by its admin."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "requested_by_id" not in o:
        o["requested_by_id"] = (await make_school_admin(session, school_id=o["school_id"])).id
    status = o.get("status", ReportStatus.QUEUED)
    fields: dict[str, Any] = {
        "kind": ReportKind.PROGRESS,
        "scope": ReportScope.SCHOOL,
        "scope_id": o["school_id"],
        "date_from": SCHOOL_YEAR_START,
        "date_to": SCHOOL_YEAR_START + dt.timedelta(days=60),
        "format": ReportFormat.PDF,
        "status": status,
    }
    if status in (ReportStatus.READY, ReportStatus.FAILED, ReportStatus.EXPIRED):
        fields["finished_at"] = now()
    if status is ReportStatus.READY:
        fields["storage_key"] = f"reports/{seq():08d}.pdf"
        fields["expires_at"] = now() + dt.timedelta(days=7)
    if status is ReportStatus.FAILED:
        fields["error"] = "Нет данных за период"
    fields.update(o)
    return await persist(session, Report(**fields))


async def make_report_template(session: AsyncSession, **overrides: Any) -> ReportTemplate:
    """A school's progress template: the default columns, a table per subject."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    fields: dict[str, Any] = {
        "kind": ReportKind.PROGRESS,
        "name": f"Шаблон {seq()}",
        "columns": [c.value for c in DEFAULTS[ReportKind.PROGRESS].columns],
        "group_by": ReportGrouping.SUBJECT,
        "include_comments": True,
        "include_remarks": True,
        "is_default": False,
    }
    fields.update(o)
    return await persist(session, ReportTemplate(**fields))


async def make_report_remark(session: AsyncSession, **overrides: Any) -> ReportRemark:
    """A teacher's remark on a child's period."""
    o = take_parents(overrides)
    if "child_id" not in o:
        o["child_id"] = (await make_child(session)).id
    if "period_id" not in o:
        o["period_id"] = (await make_period(session)).id
    if "author_id" not in o:
        o["author_id"] = (await make_teacher(session)).id
    fields: dict[str, Any] = {"text": "Стал внимательнее на уроках; стоит подтянуть устный счёт."}
    fields.update(o)
    return await persist(session, ReportRemark(**fields))
