"""Reading a school's roster as OneRoster has it: a page of a collection (filter, sort,
limit/offset, the total) and one record by its sourcedId, for an integration with
roster:read at that school (auth/policy.py, "integrations: OneRoster").

The query parameters come parsed (routes/oneroster/params.py); what they name is checked
here against the collection's fields (sources.py). Rows come back as dicts of the
sources' columns, personal fields masked for the reader.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import personal_fields, policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import Period
from ediary_gql.errors import forbidden
from ediary_gql.services.oneroster.sources import SOURCES, Collection, Kind, Source
from ediary_gql.services.public_ids import parse_global_id

Record = dict[str, Any]


class Minor(enum.StrEnum):
    """The spec's imsx_CodeMinor values a read may answer with."""

    INVALID_FILTER_FIELD = "invalid_filter_field"
    INVALID_SORT_FIELD = "invalid_sort_field"
    INVALID_SELECTION_FIELD = "invalid_selection_field"
    INVALID_DATA = "invaliddata"


class QueryError(Exception):
    """A request the collection cannot answer as asked (HTTP 400)."""

    def __init__(self, minor: Minor, description: str) -> None:
        super().__init__(description)
        self.minor = minor
        self.description = description


OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: str  # one of OPERATORS
    value: str


@dataclass(frozen=True, slots=True)
class Filter:
    """One comparison, or two joined by AND or OR (as far as the spec goes)."""

    terms: tuple[Comparison, ...]
    conjunction: str = "AND"


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int = 100
    offset: int = 0
    sort: str | None = None
    descending: bool = False
    filter: Filter | None = None


def reader_school(actor: Actor | None) -> int:
    """The school the actor reads, or FORBIDDEN (a person, or no roster:read)."""
    school = policy.oneroster_school(actor)
    if school is None:
        raise forbidden("Нужен токен интеграции с правом roster:read")
    return school


def _is_sourced_id(rows: sa.Subquery, value: str) -> sa.ColumnElement[bool]:
    """The record whose sourcedId is `value`: its external ID, else our global ID."""
    condition: sa.ColumnElement[bool] = func.coalesce(rows.c.ext, "") == value
    parsed = parse_global_id(value)
    if parsed is not None:
        type_name, pk = parsed
        condition = sa.or_(condition, sa.and_(rows.c.ext.is_(None), rows.c.gid_type == type_name, rows.c.pk == pk))
    return condition


def _typed(kind: Kind, comparison: Comparison) -> object:
    """The filter's text value as the field's column holds it."""
    value = comparison.value
    try:
        if kind is Kind.DATE:
            return dt.date.fromisoformat(value)
        if kind is Kind.DATETIME:
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    except ValueError:
        raise QueryError(Minor.INVALID_DATA, f"{comparison.field}: not a valid {kind.value}: {value!r}") from None
    return value


def _condition(source: Source, rows: sa.Subquery, comparison: Comparison) -> sa.ColumnElement[bool]:
    kind = source.fields.get(comparison.field)
    if kind is None:
        raise QueryError(Minor.INVALID_FILTER_FIELD, f"Unknown filter field: {comparison.field}")
    op = comparison.op
    if comparison.field == "sourcedId":
        if op not in ("=", "!="):
            raise QueryError(Minor.INVALID_DATA, "sourcedId is compared with = or != only")
        found = _is_sourced_id(rows, comparison.value)
        return found if op == "=" else sa.not_(found)
    column = rows.c[comparison.field]
    if op == "~":
        if kind is not Kind.TEXT:
            raise QueryError(Minor.INVALID_DATA, f"{comparison.field}: ~ compares text only")
        return column.icontains(comparison.value, autoescape=True)
    value = _typed(kind, comparison)
    compared: dict[str, sa.ColumnElement[bool]] = {
        "=": column == value,
        "!=": sa.or_(column != value, column.is_(None)),
        ">": column > value,
        ">=": column >= value,
        "<": column < value,
        "<=": column <= value,
    }
    return compared[op]


def _where(source: Source, rows: sa.Subquery, filter_: Filter | None) -> list[sa.ColumnElement[bool]]:
    if filter_ is None:
        return []
    conditions = [_condition(source, rows, term) for term in filter_.terms]
    return [sa.or_(*conditions) if filter_.conjunction == "OR" else sa.and_(*conditions)]


def _order(source: Source, rows: sa.Subquery, query: ListQuery) -> list[sa.ColumnElement[Any]]:
    # ties (and no sort at all) in a stable order: by type, then row
    tail: list[sa.ColumnElement[Any]] = [rows.c.gid_type, rows.c.pk]
    if query.sort is None:
        return tail
    if query.sort not in source.fields:
        raise QueryError(Minor.INVALID_SORT_FIELD, f"Unknown sort field: {query.sort}")
    # a derived sourcedId sorts after the school's external IDs, in record order
    keys: list[sa.ColumnElement[Any]] = (
        [func.coalesce(rows.c.ext, "")] if query.sort == "sourcedId" else [rows.c[query.sort]]
    )
    return [key.desc() if query.descending else key.asc() for key in [*keys, *tail]]


def _masked(actor: Actor | None, school_id: int, record: Record) -> Record:
    """Contacts as the personal-fields registry shows them to this reader
    (can_view_contacts: an integration is no admin, so it sees them masked)."""
    if record.get("gid_type") != "User":
        return record
    allowed = policy.can_view_contacts(actor, int(record["pk"]), user_school_ids=frozenset({school_id}))
    record["email"] = personal_fields.shown(personal_fields.USER_EMAIL, record["email"], allowed=allowed)
    record["phone"] = personal_fields.shown(personal_fields.USER_PHONE, record["phone"], allowed=allowed)
    return record


async def _with_children(session: AsyncSession, records: Sequence[Record]) -> None:
    """The terms of each school year on the page (one statement), as `children_pks`."""
    years = [int(r["pk"]) for r in records if r.get("gid_type") == "AcademicYear"]
    if not years:
        return
    found: dict[int, list[int]] = {year: [] for year in years}
    rows = await session.execute(
        select(Period.academic_year_id, Period.id)
        .where(Period.academic_year_id.in_(years))
        .order_by(Period.academic_year_id, Period.number)
    )
    for year, period in rows.all():
        found[year].append(period)
    for record in records:
        if record.get("gid_type") == "AcademicYear":
            record["children_pks"] = found[int(record["pk"])]


async def _finish(session: AsyncSession, actor: Actor | None, school_id: int, rows: Sequence[Any]) -> list[Record]:
    records = [_masked(actor, school_id, dict(row._mapping)) for row in rows]
    await _with_children(session, records)
    return records


async def list_records(
    session: AsyncSession, *, actor: Actor | None, collection: Collection, query: ListQuery
) -> tuple[list[Record], int]:
    """A page of the collection at the reader's school, and how many records match."""
    school_id = reader_school(actor)
    source = SOURCES[collection]
    rows = source.select(school_id).subquery("roster")
    where = _where(source, rows, query.filter)
    order = _order(source, rows, query)
    total = await session.scalar(select(func.count()).select_from(rows).where(*where))
    page = await session.execute(select(rows).where(*where).order_by(*order).limit(query.limit).offset(query.offset))
    return await _finish(session, actor, school_id, page.all()), int(total or 0)


async def get_record(
    session: AsyncSession, *, actor: Actor | None, collection: Collection, sourced_id: str
) -> Record | None:
    """The record of the collection at the reader's school with that sourcedId (None:
    none there, whoever else may hold one)."""
    school_id = reader_school(actor)
    rows = SOURCES[collection].select(school_id).subquery("roster")
    found = await session.execute(
        select(rows).where(_is_sourced_id(rows, sourced_id)).order_by(rows.c.gid_type, rows.c.pk).limit(1)
    )
    records = await _finish(session, actor, school_id, found.all())
    return records[0] if records else None
