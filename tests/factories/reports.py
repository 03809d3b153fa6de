"""Report requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope, ReportStatus
from ediary_gql.db.models.reports import Report
from tests.factories._base import SCHOOL_YEAR_START, now, persist, seq, take_parents
from tests.factories.schools import make_school, make_school_admin


async def make_report(session: AsyncSession, **overrides: Any) -> Report:
    """A school's progress report for September–October, asked by its admin."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "requested_by_id" not in o:
        o["requested_by_id"] = (await make_school_admin(session, school_id=o["school_id"])).id
    status = o.get("status", ReportStatus.PENDING)
    fields: dict[str, Any] = {
        "kind": ReportKind.PROGRESS,
        "scope": ReportScope.SCHOOL,
        "scope_id": o["school_id"],
        "date_from": SCHOOL_YEAR_START,
        "date_to": SCHOOL_YEAR_START + dt.timedelta(days=60),
        "format": ReportFormat.PDF,
        "status": status,
    }
    if status is not ReportStatus.PENDING:
        fields["finished_at"] = now()
    if status is ReportStatus.READY:
        fields["storage_key"] = f"reports/{seq():08d}.pdf"
    if status is ReportStatus.FAILED:
        fields["error"] = "Нет данных за период"
    fields.update(o)
    return await persist(session, Report(**fields))
