"""What a report is called: in notices («Успеваемость 7А 1 четверть») and as a file
(«Успеваемость 7А 1 четверть.pdf», with an ASCII name for clients that need one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope
from ediary_gql.db.models.reports import Report
from ediary_gql.db.models.schools import School

KIND_TITLES: dict[ReportKind, str] = {
    ReportKind.PROGRESS: "Успеваемость",
    ReportKind.ATTENDANCE: "Посещаемость",
}
EXTENSIONS: dict[ReportFormat, str] = {
    ReportFormat.PDF: "pdf",
    ReportFormat.XLSX: "xlsx",
    ReportFormat.CSV: "csv",
    ReportFormat.HTML: "html",
}
# Characters no file system or browser takes in a name; and runs of white space.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
NAME_MAX = 150  # characters of a file name before its extension


@dataclass(frozen=True, slots=True)
class ReportNames:
    target: str  # «Иванов Иван», «7А», the school's short name; "" if the target is gone
    period: str | None  # the period's name («1 четверть»); None for dates given by hand


def period_text(report: Report, period_name: str | None) -> str:
    """The period's name, or the report's dates: «01.09.2026–31.10.2026»."""
    if period_name:
        return period_name
    return f"{report.date_from:%d.%m.%Y}–{report.date_to:%d.%m.%Y}"


def title(report: Report, names: ReportNames) -> str:
    """«Успеваемость 7А 1 четверть»."""
    parts = (KIND_TITLES[report.kind], names.target, period_text(report, names.period))
    return " ".join(p for p in parts if p)


def file_name(report: Report, names: ReportNames) -> str:
    """«Успеваемость 7А 1 четверть.pdf»: the title without what a file name cannot hold."""
    stem = _SPACES.sub(" ", _UNSAFE.sub(" ", title(report, names))).strip(" .")[:NAME_MAX].rstrip(" .")
    return f"{stem or ascii_stem(report)}.{EXTENSIONS[report.format]}"


def ascii_stem(report: Report) -> str:
    return f"report-{report.id}"


def ascii_file_name(report: Report) -> str:
    """«report-12.pdf»: for clients that read only the plain `filename` of a download."""
    return f"{ascii_stem(report)}.{EXTENSIONS[report.format]}"


async def names_of(session: AsyncSession, report: Report) -> ReportNames:
    """The target's and the period's names (two short reads)."""
    target: str | None
    if report.scope is ReportScope.CHILD:
        child = (
            await session.execute(select(Child.last_name, Child.first_name).where(Child.id == report.scope_id))
        ).first()
        target = None if child is None else " ".join(p for p in child if p)
    elif report.scope is ReportScope.CLASS:
        found = (
            await session.execute(
                select(SchoolClass.level, SchoolClass.letter).where(SchoolClass.id == report.scope_id)
            )
        ).first()
        target = None if found is None else f"{found[0]}{found[1]}"
    else:
        target = await session.scalar(select(School.short_name).where(School.id == report.scope_id))
    period = None
    if report.period_id is not None:
        period = await session.scalar(select(Period.name).where(Period.id == report.period_id))
    return ReportNames(target=target or "", period=period)
