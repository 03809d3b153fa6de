"""Reports rendered in each format and read back with parsers of their own: pypdf,
openpyxl, the csv module and html.parser."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import cast
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
import xlsxwriter

from ediary_gql.reports import Column, ColumnKind, ReportDocument, ReportFormat, Section, render
from ediary_gql.reports.render import XLSX_OPTIONS, made_at_label

MOSCOW = ZoneInfo("Europe/Moscow")
MADE_AT = datetime(2026, 12, 2, 14, 5, tzinfo=MOSCOW)

GRADES = Section(
    title="Успеваемость: Соколов Дмитрий",
    columns=(
        Column("child", "Ученик"),
        Column("subject", "Предмет"),
        Column("average", "Средний балл", ColumnKind.DECIMAL),
        Column("marks", "Оценок", ColumnKind.INTEGER),
        Column("last", "Последняя оценка", ColumnKind.DATE),
        Column("attended", "Посещено", ColumnKind.PERCENT),
    ),
    rows=(
        ("Соколов Дмитрий", "Математика", Decimal("4.67"), 12, date(2026, 11, 27), Decimal("95.0")),
        ("<script>alert(1)</script>", "Русский язык", None, 0, None, Decimal("100")),
    ),
    note="Средний балл — простое среднее за период.",
)
REMARKS = Section(
    title="Замечания учителей",
    columns=(Column("teacher", "Учитель"), Column("text", "Замечание")),
    rows=(("Иванова А. П.", '=HYPERLINK("http://x")'),),
)
DOCUMENT = ReportDocument(
    title="Отчёт об успеваемости",
    school_name="МБОУ СОШ № 7 «Гимназия»",
    period_label="II четверть 2026/27",
    made_at=MADE_AT,
    sections=(GRADES, REMARKS),
)


def test_each_format_has_its_media_type_and_extension() -> None:
    assert {(f.extension, f.media_type.split(";")[0]) for f in ReportFormat} == {
        ("pdf", "application/pdf"),
        ("html", "text/html"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "text/csv"),
    }


def test_made_at_is_said_in_its_own_zone() -> None:
    assert made_at_label(MADE_AT) == "Сформирован 02.12.2026 14:05 (МСК)"
    assert made_at_label(datetime(2026, 12, 2, 16, 5, tzinfo=ZoneInfo("Asia/Yekaterinburg"))).endswith("(UTC+05:00)")


def test_a_naive_made_at_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ReportDocument("t", "s", "p", datetime(2026, 12, 2), ())


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str, str]] = []  # (tag, class, text)
        self.tags: list[str] = []
        self._open: tuple[str, str] | None = None
        self.in_thead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("td", "th"):
            self._open = (tag, dict(attrs).get("class") or "")
            self.cells.append((tag, self._open[1], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, cls, text = self.cells[-1]
            self.cells[-1] = (tag, cls, text + data)


def test_html_is_standalone_escaped_and_formatted_in_russian() -> None:
    html = render(DOCUMENT, ReportFormat.HTML).decode("utf-8")
    assert '<html lang="ru">' in html
    assert '<meta charset="utf-8">' in html
    assert "<link" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "МБОУ СОШ № 7 «Гимназия»" in html
    assert "Сформирован 02.12.2026 14:05 (МСК)" in html

    parser = _Cells()
    parser.feed(html)
    assert "script" not in parser.tags
    assert parser.tags.count("thead") == 2
    data = {text for tag, _, text in parser.cells if tag == "td"}
    assert {"Соколов Дмитрий", "Математика", "4,67", "12", "27.11.2026", "95,0\u00a0%", "100,0\u00a0%"} <= data
    assert "<script>alert(1)</script>" in data  # as text, not as a tag
    numeric = {text for tag, cls, text in parser.cells if cls == "num"}
    assert {"4,67", "12", "95,0\u00a0%", "Средний балл"} <= numeric
    assert "Соколов Дмитрий" not in numeric


def _fonts(page: pypdf.PageObject) -> pypdf.generic.DictionaryObject:
    resources = cast(pypdf.generic.DictionaryObject, page["/Resources"].get_object())
    return cast(pypdf.generic.DictionaryObject, resources["/Font"].get_object())


def test_pdf_text_has_the_child_the_subject_and_the_average() -> None:
    pdf = render(DOCUMENT, ReportFormat.PDF)
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for wanted in ("Соколов Дмитрий", "Математика", "4,67", "Сформирован 02.12.2026 14:05 (МСК)", "27.11.2026"):
        assert wanted in text
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages for font in _fonts(page).values()}
    assert any(name.split("+")[-1] == "DejaVu-Sans" for name in fonts), fonts  # embedded, subset


def test_xlsx_cells_are_typed_with_a_frozen_bold_header() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(render(DOCUMENT, ReportFormat.XLSX)))
    assert workbook.sheetnames == ["Отчёт", "Успеваемость  Соколов Дмитрий", "Замечания учителей"]
    cover = workbook["Отчёт"]
    assert [cover.cell(row, 1).value for row in range(1, 5)] == [
        "Отчёт об успеваемости",
        "МБОУ СОШ № 7 «Гимназия»",
        "II четверть 2026/27",
        "Сформирован 02.12.2026 14:05 (МСК)",
    ]

    sheet = workbook["Успеваемость  Соколов Дмитрий"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [c.title for c in GRADES.columns]
    assert all(c.font.b for c in sheet[1])
    child, subject, average, marks, last, attended = (c.value for c in sheet[2])
    assert (child, subject) == ("Соколов Дмитрий", "Математика")
    assert isinstance(average, float)
    assert average == pytest.approx(4.67)
    assert marks == 12
    assert last == datetime(2026, 11, 27)
    assert sheet["E2"].number_format == "dd.mm.yyyy"
    assert attended == pytest.approx(0.95)
    assert sheet["F2"].number_format == "0.0%"
    assert sheet["C3"].value is None
    assert sheet["A3"].value == "<script>alert(1)</script>"
    assert sheet["A5"].value == GRADES.note
    assert (sheet.column_dimensions["A"].width or 0) > len("Ученик")
    assert sheet.oddHeader is not None
    assert "МБОУ СОШ № 7" in (sheet.oddHeader.left.text or "")

    remarks = workbook["Замечания учителей"]
    assert remarks["B2"].value == '=HYPERLINK("http://x")'
    assert remarks["B2"].data_type == "s"  # text, not a formula


def test_sheet_names_are_short_clean_and_unique() -> None:
    long_title = "Посещаемость по классам и дням за вторую четверть"
    sections = tuple(Section(t, (Column("a", "A"),), ()) for t in (long_title, long_title, "Отчёт", "a/b?c", "'"))
    document = ReportDocument("t", "s", "p", MADE_AT, sections)
    names = openpyxl.load_workbook(io.BytesIO(render(document, ReportFormat.XLSX))).sheetnames
    assert len(names) == 6
    assert len({n.casefold() for n in names}) == 6
    assert all(len(n) <= 31 for n in names)
    assert names[1] == long_title[:31]
    assert names[2].endswith(" (2)")
    assert names[3] == "Отчёт (2)"
    assert names[4] == "a b c"
    assert names[5] == "Лист"


def test_xlsx_is_written_in_constant_memory_mode() -> None:
    # XlsxWriter silently drops constant_memory when in_memory is set too
    workbook = xlsxwriter.Workbook(io.BytesIO(), XLSX_OPTIONS)
    try:
        assert workbook.constant_memory
    finally:
        workbook.close()


def test_a_big_report_renders_to_xlsx() -> None:
    rows = 20_000
    section = Section(
        "Посещаемость",
        (Column("n", "№", ColumnKind.INTEGER), Column("name", "Ученик"), Column("day", "День", ColumnKind.DATE)),
        tuple((i, f"Ученик {i}", date(2026, 11, 1 + i % 30)) for i in range(rows)),
    )
    data = render(ReportDocument("t", "s", "p", MADE_AT, (section,)), ReportFormat.XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Посещаемость"]
    read = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    assert read == rows


def test_csv_has_a_bom_semicolons_and_a_block_per_section() -> None:
    data = render(DOCUMENT, ReportFormat.CSV)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[:4] == [
        ["Отчёт об успеваемости"],
        ["МБОУ СОШ № 7 «Гимназия»"],
        ["II четверть 2026/27"],
        ["2026-12-02T14:05+03:00"],
    ]
    start = rows.index([GRADES.title])
    assert rows[start + 1] == [c.title for c in GRADES.columns]
    assert rows[start + 2] == ["Соколов Дмитрий", "Математика", "4.67", "12", "2026-11-27", "95.0"]
    assert rows[start + 3] == ["<script>alert(1)</script>", "Русский язык", "", "0", "", "100"]
    assert rows[start + 4] == [GRADES.note]
    remarks = rows.index([REMARKS.title])
    assert rows[remarks + 2] == ["Иванова А. П.", '\'=HYPERLINK("http://x")']
