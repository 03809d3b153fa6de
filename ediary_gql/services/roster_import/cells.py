"""Checking cells: each problem is added to the run with its file, line and column."""

from __future__ import annotations

import datetime as dt
import re

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import person_names
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.roster_import.run import Row, Run
from ediary_gql.text import is_digits

SOURCED_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def required_text(run: Run, row: Row, column: str, max_len: int = 200) -> str | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    if len(value) > max_len:
        run.bad(row, column, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
        return None
    return value


def optional_text(run: Run, row: Row, column: str, max_len: int = 200) -> str | None:
    value = row.get(column)
    if value and len(value) > max_len:
        run.bad(row, column, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
        return None
    return value or None


def name_value(run: Run, row: Row, column: str, *, required: bool) -> str | None:
    """A person's name part by the rule of every workflow (services/person_names.py), tidied."""
    checked = person_names.check(row.get(column), required=required)
    if checked.problem is not None:
        run.bad(row, column, *checked.problem)
        return None
    return checked.value


def date_value(run: Run, row: Row, column: str, *, required: bool) -> dt.date | None:
    value = row.get(column)
    if not value:
        if required:
            run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    run.bad(row, column, ErrorCode.INVALID, "Дата в виде ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    return None


def int_value(run: Run, row: Row, column: str, low: int, high: int) -> int | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    if not is_digits(value) or not low <= int(value) <= high:
        run.bad(row, column, ErrorCode.INVALID, f"Целое число от {low} до {high}")
        return None
    return int(value)


def time_value(run: Run, row: Row, column: str) -> dt.time | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", value)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        run.bad(row, column, ErrorCode.INVALID, "Время в виде ЧЧ:ММ")
        return None
    return dt.time(int(match[1]), int(match[2]))


def sourced_ids(run: Run, entity: str) -> dict[str, Row]:
    """The file's rows by sourcedId; bad and repeated ids are problems (and skipped)."""
    seen: dict[str, Row] = {}
    for row in run.rows.get(entity, []):
        sid = row.get("sourcedId")
        if not sid:
            run.bad(row, "sourcedId", ErrorCode.REQUIRED, "Заполните ячейку")
        elif not SOURCED_ID.match(sid):
            run.bad(row, "sourcedId", ErrorCode.INVALID, "Латинские буквы, цифры и . _ : -, до 64 знаков")
        elif sid in seen:
            run.bad(row, "sourcedId", ErrorCode.DUPLICATE, f"Повтор: уже в строке {seen[sid].line}")
        else:
            seen[sid] = row
    return seen


def contacts(run: Run, row: Row) -> tuple[str | None, str | None]:
    phone = email = None
    if row.get("phone"):
        try:
            phone = normalize_phone(row.get("phone"))
        except DomainError as exc:
            run.bad(row, "phone", exc.code, exc.errors[0].message)
    if row.get("email"):
        try:
            email = normalize_email(row.get("email"))
        except DomainError as exc:
            run.bad(row, "email", exc.code, exc.errors[0].message)
    if not row.get("phone") and not row.get("email"):
        run.bad(row, "email", ErrorCode.REQUIRED, "Укажите электронную почту или телефон")
    return phone, email


def referenced(run: Run, *where: tuple[str, str]) -> set[str]:
    return {row.get(column) for entity, column in where for row in run.rows.get(entity, []) if row.get(column)}


def sourced_ids_quiet(run: Run, entity: str) -> list[str]:
    return [row.get("sourcedId") for row in run.rows.get(entity, []) if row.get("sourcedId")]
