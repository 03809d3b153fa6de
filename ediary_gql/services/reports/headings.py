"""What heads a report and its tables: the title, the period's label, the moment it was
made in the school's zone, and the Russian words for columns, statuses and marks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from ediary_gql.db.models.enums import AttendanceStatus, ReportColumn, ReportKind
from ediary_gql.reports.document import Cell, Column, ColumnKind
from ediary_gql.services.reports.template_spec import COMMENT_TITLE, TITLES, TemplateSpec
from ediary_gql.services.school_time import zone_info

KIND_TITLES = {ReportKind.PROGRESS: "Успеваемость", ReportKind.ATTENDANCE: "Посещаемость"}

# Section titles (also the XLSX sheets' names: keep them under 31 characters).
SUBJECTS_SUMMARY = "Итоги по предметам"
CHILDREN_SUMMARY = "Итоги по ученикам"
CLASSES_SUMMARY = "Итоги по классам"
GRADES = "Оценки"
ATTENDANCE_SUMMARY = "Итоги посещаемости"
LESSONS = "Уроки"
BY_CHILD = "По ученикам"
BY_DAY = "По дням"
BY_CLASS = "По классам"
REMARKS = "Замечания учителей"
TOTAL = "Итого"
NOTHING = "Нет данных за выбранные даты"

STATUS_LABELS = {
    AttendanceStatus.PRESENT: "Присутствие",
    AttendanceStatus.ABSENT: "Отсутствие",
    AttendanceStatus.LATE: "Опоздание",
    AttendanceStatus.EXCUSED: "Уважительная причина",
    AttendanceStatus.SICK: "Болезнь",
}
MARK_LABELS = {"PASS": "зачёт", "FAIL": "незачёт"}
REASON_TITLE = "Причина"

_KINDS = {
    ReportColumn.DATE: ColumnKind.DATE,
    ReportColumn.WEIGHT: ColumnKind.DECIMAL,
    ReportColumn.MINUTES_LATE: ColumnKind.INTEGER,
}
_TENTH = Decimal("0.1")


def title(kind: ReportKind, target: str) -> str:
    return f"{KIND_TITLES[kind]}: {target}"


def period_label(period_name: str | None, date_from: dt.date, date_to: dt.date) -> str:
    """ "II четверть, 01.11.2026 – 27.12.2026", or the dates alone without a period."""
    dates = f"{date_from:%d.%m.%Y} – {date_to:%d.%m.%Y}"
    return f"{period_name}, {dates}" if period_name else dates


def made_at(now: dt.datetime, zone: str | None) -> dt.datetime:
    """The moment on the school's clocks (an aware datetime)."""
    moment = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone_info(zone))


def full_name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def mark(value: str | None) -> Cell:
    """A grade as a cell: a number for 1–5, a word for pass/fail."""
    if value is None:
        return None
    return int(value) if value.isdigit() else MARK_LABELS.get(value, value)


def share(attended: int, marked: int) -> Decimal | None:
    """(present + late) of marked, in percent with one decimal (a PERCENT cell)."""
    if not marked:
        return None
    return (Decimal(attended * 100) / Decimal(marked)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def lesson_columns(spec: TemplateSpec, *, per_subject: bool, comment: str = COMMENT_TITLE) -> tuple[Column, ...]:
    """A table of lessons' rows as the template orders it, the comment last when included."""
    columns = [
        Column(c.value.lower(), TITLES[c], _KINDS.get(c, ColumnKind.TEXT))
        for c in spec.shown(grouped_by_subject=per_subject)
    ]
    if spec.include_comments:
        columns.append(Column("comment", comment))
    return tuple(columns)


def pick(spec: TemplateSpec, *, per_subject: bool, values: dict[ReportColumn, Cell], comment: Cell) -> tuple[Cell, ...]:
    """One row of `lesson_columns`: the template's columns' values, in its order."""
    cells: list[Cell] = [values.get(c) for c in spec.shown(grouped_by_subject=per_subject)]
    if spec.include_comments:
        cells.append(comment)
    return tuple(cells)


def with_child(columns: Sequence[Column]) -> tuple[Column, ...]:
    """A class's table: the child first."""
    return (Column("child", "Ученик"), *columns)
