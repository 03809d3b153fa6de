"""Reading the files: which entity a file holds (by its name), its table of text cells
(CSV in UTF-8 or Windows-1251, with , or ; between cells, or the first sheet of an
XLSX), its header checked against the entity's columns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from ediary_gql.errors import ErrorCode
from ediary_gql.services.roster_import.run import ImportFile, Problem, Row, Run

ENTITIES = ("subjects", "teachers", "classes", "children", "guardians", "timetable")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

# A person's columns, read alike from the teachers and the guardians files.
_PERSON = (("lastName", True), ("firstName", True), ("middleName", False), ("email", False), ("phone", False))
# The columns of each file: (name, required).
COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "subjects": (("sourcedId", True), ("name", True), ("shortName", False)),
    "teachers": (("sourcedId", True), *_PERSON),
    "classes": (
        ("sourcedId", True),
        ("academicYear", True),
        ("level", True),
        ("letter", True),
        ("homeroomTeacherSourcedId", False),
    ),
    "children": (
        ("sourcedId", True),
        ("lastName", True),
        ("firstName", True),
        ("middleName", False),
        ("birthDate", True),
        ("sex", True),
        ("snils", False),
        ("birthCertSeries", False),
        ("birthCertNumber", False),
        ("birthCertIssuedOn", False),
        ("citizenship", False),
        ("classSourcedId", True),
        ("enrolledOn", False),
    ),
    "guardians": (("sourcedId", True), *_PERSON, ("childSourcedIds", True)),
    "timetable": (
        ("sourcedId", True),
        ("classSourcedId", True),
        ("period", True),
        ("weekday", True),
        ("lessonNumber", True),
        ("start", True),
        ("end", True),
        ("subjectSourcedId", True),
        ("teacherSourcedId", True),
        ("room", False),
    ),
}


def entity_of(file_name: str) -> str | None:
    stem = re.split(r"[\\/]", file_name)[-1].rsplit(".", 1)[0].strip().lower()
    return stem if stem in ENTITIES else None


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(file: ImportFile) -> list[list[str]]:
    """The file's rows as text cells; raises ValueError when it cannot be read."""
    if file.content[:4] == b"PK\x03\x04" or file.name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(file.content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ValueError("Файл XLSX не читается") from exc
        sheet = book.worksheets[0]
        rows = [[cell_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    try:
        text = file.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = file.content.decode("cp1251", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_file(run: Run, file: ImportFile) -> None:
    """Add the file's rows to the run, or problems when it cannot be used at all."""
    entity = entity_of(file.name)
    if entity is None:
        run.problems.append(
            Problem(file.name, None, None, ErrorCode.INVALID, f"Неизвестный файл: ожидаются {', '.join(ENTITIES)}")
        )
        return
    if entity in run.rows:
        run.problems.append(Problem(file.name, None, None, ErrorCode.DUPLICATE, "Этот файл уже передан"))
        return
    if len(file.content) > MAX_FILE_BYTES:
        run.problems.append(Problem(file.name, None, None, ErrorCode.FILE_TOO_LARGE, "Файл больше 10 МБ"))
        return
    try:
        table = read_table(file)
    except ValueError as exc:
        run.problems.append(Problem(file.name, None, None, ErrorCode.INVALID, str(exc)))
        return
    if not table:
        run.problems.append(Problem(file.name, 1, None, ErrorCode.REQUIRED, "Файл пуст: нет строки заголовков"))
        return
    header = table[0]
    known = {name for name, _ in COLUMNS[entity]}
    problems = False
    for column in header:
        if column and column not in known:
            run.problems.append(Problem(file.name, 1, column, ErrorCode.INVALID, "Неизвестная колонка"))
            problems = True
    for column, required in COLUMNS[entity]:
        if required and column not in header:
            run.problems.append(Problem(file.name, 1, column, ErrorCode.REQUIRED, "Нет обязательной колонки"))
            problems = True
    if len(table) - 1 > MAX_ROWS:
        run.problems.append(Problem(file.name, None, None, ErrorCode.TOO_LONG, f"Не больше {MAX_ROWS} строк"))
        problems = True
    if problems:
        run.rows[entity] = []
        return
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        rows.append(
            Row(file.name, number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
        )
    run.rows[entity] = rows
