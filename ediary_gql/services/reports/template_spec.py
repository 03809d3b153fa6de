"""What shapes a report: the columns of its tables in order, their grouping, and
whether teachers' comments and remarks are in. A school's template, or the built-in
default for the kind when it has none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ediary_gql.db.models.enums import ReportColumn, ReportGrouping, ReportKind
from ediary_gql.db.models.reports import ReportTemplate
from ediary_gql.errors import ErrorCode, ErrorCollector

C = ReportColumn

# The columns each kind may show, and those it cannot do without.
ALLOWED: dict[ReportKind, tuple[ReportColumn, ...]] = {
    ReportKind.PROGRESS: (C.DATE, C.SUBJECT, C.GRADE, C.CONTROL_TYPE, C.WEIGHT, C.TEACHER, C.TOPIC),
    ReportKind.ATTENDANCE: (C.DATE, C.SUBJECT, C.STATUS, C.MINUTES_LATE, C.TEACHER, C.TOPIC),
}
REQUIRED: dict[ReportKind, tuple[ReportColumn, ...]] = {
    ReportKind.PROGRESS: (C.DATE, C.GRADE),
    ReportKind.ATTENDANCE: (C.DATE, C.STATUS),
}

# Column titles, as the tables head them.
TITLES: dict[ReportColumn, str] = {
    C.DATE: "Дата",
    C.SUBJECT: "Предмет",
    C.GRADE: "Оценка",
    C.CONTROL_TYPE: "Вид работы",
    C.WEIGHT: "Вес",
    C.STATUS: "Посещаемость",
    C.MINUTES_LATE: "Опоздание, мин",
    C.TEACHER: "Учитель",
    C.TOPIC: "Тема урока",
}
COMMENT_TITLE = "Комментарий учителя"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    kind: ReportKind
    columns: tuple[ReportColumn, ...]
    group_by: ReportGrouping
    include_comments: bool = True
    include_remarks: bool = True

    def shown(self, *, grouped_by_subject: bool | None = None) -> tuple[ReportColumn, ...]:
        """The columns of a table of lessons: a table per subject does not repeat the subject."""
        per_subject = self.group_by is ReportGrouping.SUBJECT if grouped_by_subject is None else grouped_by_subject
        return tuple(c for c in self.columns if not (per_subject and c is C.SUBJECT))


DEFAULTS: dict[ReportKind, TemplateSpec] = {
    ReportKind.PROGRESS: TemplateSpec(
        ReportKind.PROGRESS, (C.DATE, C.GRADE, C.CONTROL_TYPE, C.WEIGHT, C.TEACHER), ReportGrouping.SUBJECT
    ),
    ReportKind.ATTENDANCE: TemplateSpec(
        ReportKind.ATTENDANCE, (C.DATE, C.SUBJECT, C.STATUS, C.MINUTES_LATE), ReportGrouping.DATE
    ),
}
DEFAULT_NAMES: dict[ReportKind, str] = {
    ReportKind.PROGRESS: "Успеваемость (по умолчанию)",
    ReportKind.ATTENDANCE: "Посещаемость (по умолчанию)",
}


def spec_of(template: ReportTemplate | None, kind: ReportKind) -> TemplateSpec:
    """The template's shape, or the kind's default when there is no template."""
    if template is None:
        return DEFAULTS[kind]
    return TemplateSpec(
        kind=template.kind,
        columns=tuple(ReportColumn(c) for c in template.columns),
        group_by=template.group_by,
        include_comments=template.include_comments,
        include_remarks=template.include_remarks,
    )


def check_columns(
    errors: ErrorCollector, kind: ReportKind, columns: Sequence[ReportColumn], field: Sequence[str] = ("columns",)
) -> None:
    """Each column allowed for the kind, none twice, the required ones present."""
    path = tuple(field)
    seen: set[ReportColumn] = set()
    for number, column in enumerate(columns):
        if column not in ALLOWED[kind]:
            message = f"Столбец «{TITLES[column]}» не подходит для этого отчёта"
            errors.add((*path, str(number)), ErrorCode.INVALID, message)
        elif column in seen:
            errors.add((*path, str(number)), ErrorCode.DUPLICATE, f"Столбец «{TITLES[column]}» указан дважды")
        seen.add(column)
    missing = [TITLES[c] for c in REQUIRED[kind] if c not in seen]
    if missing:
        errors.add(path, ErrorCode.REQUIRED, "Нужны столбцы: " + ", ".join(missing))
