"""Report benchmarks on `seed --scale` schools, printed as a table.

    DATABASE_URL=postgresql+asyncpg://… python bench/reports.py

Rows:
- a class's progress report for the current quarter, in each format (PDF, HTML, XLSX, CSV);
- a whole school's attendance report for the quarter as XLSX, on a school of 1,000
  children and on one of 2,000 (40 classes of 25, and of 50): memory should not grow
  with the number of children, since the school's sections are grouped in SQL.

Each report is built and rendered the way the worker does it (`build_document`, then
`render` in a thread), in a child process of its own, so that the process's peak
resident memory (`ru_maxrss`) belongs to that one report. The table gives the time, the
peak RSS before the build (the process with its imports and the Report row read) and
after it, and the size of the file. (tracemalloc is not used: it slows WeasyPrint
several times over.)

The two scale schools are reused if the database has them (seeded otherwise, ~1 min
on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope, ReportStatus, StaffRole
from ediary_gql.db.models.reports import Report
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.demo import seed_scale
from ediary_gql.reports.render import ReportFormat as FileFormat
from ediary_gql.reports.render import render
from ediary_gql.services.reports.build import build_document
from ediary_gql.settings import load_settings

console = Console(width=140)
TODAY = dt.date(2026, 11, 27)  # "today" of the scale data
SIZES = (25, 50)  # children per class: schools of 1,000 and 2,000 children


async def _schools(settings: Any) -> dict[int, int]:
    """{children per school: school id} for the scale schools of the sizes wanted, seeding those missing."""
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        found: dict[int, int] = {}
        for size in SIZES:
            found_id = await _school_of_size(factory, size * 40)
            if found_id is None:
                console.print(f"Seeding a scale school of 40 classes × {size} children…")
                await seed_scale(factory, schools=1, class_size=size, progress=console)
                found_id = await _school_of_size(factory, size * 40)
            assert found_id is not None
            found[size * 40] = found_id
        return found
    finally:
        await engine.dispose()


async def _school_of_size(factory: Any, children: int) -> int | None:
    async with factory() as session:
        counts = (
            await session.execute(
                select(SchoolClass.school_id, func.count(Enrollment.child_id))
                .join(Enrollment, Enrollment.class_id == SchoolClass.id)
                .where(SchoolClass.school_id.in_(select(StaffMembership.school_id)))
                .group_by(SchoolClass.school_id)
            )
        ).all()
    for school_id, count in counts:
        if int(count) == children:
            return int(school_id)
    return None


async def _report(settings: Any, spec: dict[str, Any]) -> Report:
    """A Report row (RUNNING, as the worker holds it) for the spec's scope and the current quarter."""
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        async with factory() as session, session.begin():
            school_id = int(spec["school_id"])
            admin = await session.scalar(
                select(StaffMembership.user_id)
                .where(StaffMembership.school_id == school_id, StaffMembership.role == StaffRole.SCHOOL_ADMIN)
                .limit(1)
            )
            cls = (
                await session.execute(
                    select(SchoolClass.id, SchoolClass.academic_year_id)
                    .where(SchoolClass.school_id == school_id, SchoolClass.level == 7)
                    .order_by(SchoolClass.id)
                    .limit(1)
                )
            ).one()
            period = (
                await session.execute(
                    select(Period.id, Period.starts_on, Period.ends_on).where(
                        Period.academic_year_id == cls.academic_year_id,
                        Period.starts_on <= TODAY,
                        Period.ends_on >= TODAY,
                    )
                )
            ).one()
            scope = ReportScope(spec["scope"])
            report = Report(
                requested_by_id=admin,
                school_id=school_id,
                kind=ReportKind(spec["kind"]),
                scope=scope,
                scope_id=cls.id if scope is ReportScope.CLASS else school_id,
                period_id=period.id,
                date_from=period.starts_on,
                date_to=period.ends_on,
                format=ReportFormat(spec["format"]),
                status=ReportStatus.RUNNING,
            )
            session.add(report)
            await session.flush()
            session.expunge(report)
            await session.rollback()  # measure the build, not a row left behind
            return report
    finally:
        await engine.dispose()


async def _one(spec: dict[str, Any]) -> dict[str, Any]:
    """Build and render one report in this process; its time and memory."""
    settings = load_settings(log_level="WARNING")
    report = await _report(settings, spec)
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        async with factory() as session:
            document = await build_document(session, report, now=dt.datetime.now(dt.UTC))
        data = await asyncio.to_thread(render, document, FileFormat[report.format.value])
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - started
    rows = sum(len(section.rows) for section in document.sections)
    return {
        "seconds": seconds,
        "rss_before_mb": baseline,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes": len(data),
        "rows": rows,
    }


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own script, arguments we made
        [sys.executable, __file__, "--one", json.dumps(spec)], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(args: argparse.Namespace) -> None:
    settings = load_settings(log_level="WARNING")
    upgrade(settings.database_url)
    schools = asyncio.run(_schools(settings))
    small, big = schools[SIZES[0] * 40], schools[SIZES[1] * 40]
    scenarios: list[tuple[str, int, dict[str, Any]]] = [
        (f"class quarter progress, {fmt.value}", SIZES[0], {"kind": "PROGRESS", "scope": "CLASS", "format": fmt.value})
        for fmt in (ReportFormat.PDF, ReportFormat.HTML, ReportFormat.XLSX, ReportFormat.CSV)
    ]
    scenarios += [
        (f"school quarter attendance, XLSX ({children:,} children)", children, {})
        for children in (SIZES[0] * 40, SIZES[1] * 40)
    ]
    table = Table(title=f"Reports ({'SQLite' if settings.is_sqlite else 'PostgreSQL'}; best of {args.repeat})")
    for column in ("report", "rows", "file", "time, s", "RSS before, MB", "RSS peak, MB", "growth, MB"):
        table.add_column(column, justify="left" if column == "report" else "right")
    for title, children, spec in scenarios:
        if not spec:
            spec = {"kind": "ATTENDANCE", "scope": "SCHOOL", "format": "XLSX"}
            school_id = small if children == SIZES[0] * 40 else big
        else:
            school_id = small
        runs = [_child({**spec, "school_id": school_id}) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        table.add_row(
            title,
            f"{best['rows']:,}",
            f"{best['bytes'] / 1024:,.0f} KB",
            f"{best['seconds']:.2f}",
            f"{best['rss_before_mb']:.0f}",
            f"{max(r['rss_peak_mb'] for r in runs):.0f}",
            f"{max(r['rss_peak_mb'] - r['rss_before_mb'] for r in runs):.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report (the best time is shown)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one report, JSON out
    parsed = parser.parse_args()
    if parsed.one:
        print(json.dumps(asyncio.run(_one(json.loads(parsed.one)))))
    else:
        main(parsed)
