"""A `ReportDocument` as PDF, HTML, XLSX or CSV bytes.

HTML comes from one Jinja2 template (autoescaped); PDF is that same HTML through
WeasyPrint, with DejaVu Sans for Cyrillic (fonts-dejavu-core; WeasyPrint itself needs
pango: libpango-1.0-0 libpangoft2-1.0-0). XLSX is written by XlsxWriter in constant-memory
mode, a row at a time; CSV by the csv module.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import jinja2
import weasyprint
import xlsxwriter

from ediary_gql.reports.document import Cell, Column, ColumnKind, ReportDocument, Section


class ReportFormat(enum.Enum):
    PDF = ("application/pdf", "pdf")
    HTML = ("text/html; charset=utf-8", "html")
    XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    CSV = ("text/csv; charset=utf-8", "csv")

    @property
    def media_type(self) -> str:
        return self.value[0]

    @property
    def extension(self) -> str:
        return self.value[1]


def render(document: ReportDocument, format: ReportFormat) -> bytes:
    if format is ReportFormat.HTML:
        return render_html(document).encode("utf-8")
    if format is ReportFormat.PDF:
        return _render_pdf(document)
    if format is ReportFormat.XLSX:
        return _render_xlsx(document)
    return _render_csv(document)


# --- Russian text: HTML and PDF -------------------------------------------------------

NBSP = "\u00a0"


def made_at_label(made_at: datetime) -> str:
    """ "Сформирован 02.12.2026 14:05 (МСК)", in the datetime's own zone."""
    return f"Сформирован {made_at:%d.%m.%Y %H:%M} ({_zone_label(made_at)})"


def _zone_label(moment: datetime) -> str:
    name = moment.tzname()
    if name == "MSK":
        return "МСК"
    if name == "UTC":
        return "UTC"
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def display(cell: Cell, kind: ColumnKind) -> str:
    """A cell as a Russian reader expects it: 4,67; 95,0 %; 02.12.2026."""
    if cell is None:
        return ""
    if isinstance(cell, date):  # a datetime is a date too; a report shows its day
        return f"{cell:%d.%m.%Y}"
    if kind is ColumnKind.PERCENT and isinstance(cell, int | Decimal):
        return f"{Decimal(cell):.1f}".replace(".", ",") + f"{NBSP}%"
    if isinstance(cell, Decimal):
        return format(cell, "f").replace(".", ",")
    return str(cell)


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("ediary_gql.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(document: ReportDocument) -> str:
    sections = [
        {
            "title": section.title,
            "note": section.note,
            "columns": [{"title": c.title, "numeric": c.kind.numeric} for c in section.columns],
            "rows": [
                [
                    {"text": display(cell, column.kind), "numeric": column.kind.numeric}
                    for column, cell in zip(section.columns, row, strict=True)
                ]
                for row in section.rows
            ],
        }
        for section in document.sections
    ]
    return _templates.get_template("report.html").render(
        title=document.title,
        school_name=document.school_name,
        period_label=document.period_label,
        made_at=made_at_label(document.made_at),
        sections=sections,
    )


def _render_pdf(document: ReportDocument) -> bytes:
    # The HTML is ours and refers to nothing outside it: fetch no URL at all, whatever a
    # cell holds.
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    pdf: bytes = weasyprint.HTML(string=render_html(document), url_fetcher=fetcher).write_pdf()
    return pdf


# --- XLSX --------------------------------------------------------------------------------

# constant_memory: each row is flushed to a temporary file once the next one starts, so
# a big report is not held as cells. XlsxWriter turns constant_memory off when in_memory
# is set (workbook.py: "We can't do 'constant_memory' mode while doing 'in_memory' mode"),
# so in_memory is deliberately not set; only the finished zip is assembled in memory.
XLSX_OPTIONS: dict[str, Any] = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
_SHEET_NAME_LIMIT = 31
_MAX_WIDTH = 60
_HEADER_LIMIT = 255  # Excel's limit on a sheet's header or footer text


def _render_xlsx(document: ReportDocument) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    workbook.set_properties({"title": document.title, "company": document.school_name})
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    formats = {
        ColumnKind.TEXT: None,
        ColumnKind.INTEGER: workbook.add_format({"num_format": "0"}),
        ColumnKind.DECIMAL: workbook.add_format({"num_format": "0.00"}),
        ColumnKind.DATE: workbook.add_format({"num_format": "dd.mm.yyyy"}),
        ColumnKind.PERCENT: workbook.add_format({"num_format": "0.0%"}),
    }
    names = _SheetNames()

    cover = workbook.add_worksheet(names.take("Отчёт"))
    cover_lines = [
        (document.title, bold),
        (document.school_name, None),
        (document.period_label, None),
        (made_at_label(document.made_at), None),
    ]
    for row, (text, style) in enumerate(cover_lines):
        cover.write_string(row, 0, text, style)
    cover.set_column(0, 0, min(_MAX_WIDTH, max(len(text) for text, _ in cover_lines) + 2))

    page_header = _header_text(f"&L{_amp(document.school_name)}&C{_amp(document.title)}&R{_amp(document.period_label)}")
    page_footer = _header_text(f"&L{_amp(made_at_label(document.made_at))}&RСтр. &P из &N")
    for section in document.sections:
        sheet = workbook.add_worksheet(names.take(section.title))
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.repeat_rows(0)
        if page_header:
            sheet.set_header(page_header)
        if page_footer:
            sheet.set_footer(page_footer)
        sheet.freeze_panes(1, 0)
        widths = [len(column.title) for column in section.columns]
        for col, column in enumerate(section.columns):
            sheet.write_string(0, col, column.title, header)
        for number, row_cells in enumerate(section.rows, start=1):
            for col, (column, cell) in enumerate(zip(section.columns, row_cells, strict=True)):
                _write_cell(sheet, number, col, column, cell, formats[column.kind])
                widths[col] = max(widths[col], len(display(cell, column.kind)))
        if section.note:
            sheet.write_string(len(section.rows) + 2, 0, section.note)
        # Column widths live outside the rows, so setting them after the rows is fine in
        # constant-memory mode.
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(_MAX_WIDTH, width + 2))
    workbook.close()
    return buffer.getvalue()


def _write_cell(sheet: Any, row: int, col: int, column: Column, cell: Cell, style: Any) -> None:
    if cell is None:
        return
    if isinstance(cell, date):
        sheet.write_datetime(row, col, cell, style)
    elif isinstance(cell, int | Decimal):
        value = float(cell)
        sheet.write_number(row, col, value / 100 if column.kind is ColumnKind.PERCENT else value, style)
    else:
        sheet.write_string(row, col, cell)  # never write(): "=…" stays text, not a formula


def _amp(text: str) -> str:
    return text.replace("&", "&&")


def _header_text(text: str) -> str | None:
    return text if len(text) <= _HEADER_LIMIT else None


class _SheetNames:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\, not edged with an
    apostrophe, not "History", unique regardless of case."""

    _FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, wanted: str) -> str:
        base = self._FORBIDDEN.sub(" ", wanted).strip().strip("'").strip() or "Лист"
        if base.casefold() == "history":
            base = "History_"
        name, n = base[:_SHEET_NAME_LIMIT], 1
        while name.casefold() in self._taken:
            n += 1
            suffix = f" ({n})"
            name = base[: _SHEET_NAME_LIMIT - len(suffix)].rstrip().rstrip("'") + suffix
        self._taken.add(name.casefold())
        return name


# --- CSV ---------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _render_csv(document: ReportDocument) -> bytes:
    # utf-8-sig: the BOM makes Excel read the file as UTF-8, not the ANSI code page; ";"
    # is the list separator a Russian-locale Excel expects (the comma is the decimal mark).
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_text(document.title)])
    writer.writerow([_csv_text(document.school_name)])
    writer.writerow([_csv_text(document.period_label)])
    writer.writerow([document.made_at.isoformat(timespec="minutes")])
    for section in document.sections:
        writer.writerow([])
        writer.writerows(_csv_block(section))
    return out.getvalue().encode("utf-8-sig")


def _csv_block(section: Section) -> Iterator[list[str]]:
    yield [_csv_text(section.title)]
    yield [_csv_text(column.title) for column in section.columns]
    for row in section.rows:
        yield [_csv_cell(cell) for cell in row]
    if section.note:
        yield [_csv_text(section.note)]


def _csv_cell(cell: Cell) -> str:
    """Machine-readable: ISO dates, a dot in decimals (percents stay in percent points)."""
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat() if not isinstance(cell, datetime) else cell.date().isoformat()
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, int):
        return str(cell)
    return _csv_text(cell)


def _csv_text(text: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula (CSV injection):
    # such text gets a leading apostrophe, which Excel shows as plain text.
    return "'" + text if text.startswith(_FORMULA_START) else text
