"""Search of the schools an actor may find, ordered by relevance to the query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus, SchoolType
from ediary_gql.db.models.geo import Settlement
from ediary_gql.db.models.schools import School
from ediary_gql.services.directory import WORD_SEPARATORS, escape_like, normalize_query, word_prefix_match
from ediary_gql.text import is_digits


@dataclass(frozen=True, slots=True)
class SchoolFilter:
    query: str | None = None
    region_code: str | None = None
    settlement_id: int | None = None
    status: SchoolStatus | None = None
    type: SchoolType | None = None


@dataclass(frozen=True, slots=True)
class SchoolSearch:
    """A search as a statement with its keyset: `key` columns and `key_of(row)` values."""

    stmt: Select[School]
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]]
    key_of: Callable[[School], list[Any]]


def _inn_of(query: str) -> str | None:
    digits = query.replace(" ", "")
    return digits if is_digits(digits) else None


def relevance_of(school: School, query: str) -> int:
    """0: the INN is the query; 1: the full name starts with it; 2: a word of the full or
    short name does; 3: the name contains it. Mirrors `_relevance` for cursors."""
    name = school.name_normalized
    if school.inn == _inn_of(query):
        return 0
    if name.startswith(query):
        return 1
    if any(sep + query in name for sep in WORD_SEPARATORS):
        return 2
    return 3


def _relevance(query: str) -> ColumnElement[int]:
    inn = _inn_of(query)
    whens: list[tuple[ColumnElement[bool], int]] = []
    if inn is not None:
        whens.append((School.inn == inn, 0))
    whens.append((School.name_normalized.like(f"{escape_like(query)}%", escape="\\"), 1))
    whens.append((word_prefix_match(School.name_normalized, query), 2))
    return case(*whens, else_=3)


def search_schools(actor: Actor | None, flt: SchoolFilter) -> SchoolSearch:
    """Schools the actor may find: the public directory (active, open to parents); also
    their own registrations and the schools they work at; every school for operators.
    Ordered by relevance to `query` (INN, name start, a word start, a fragment), then name."""
    stmt = select(School)
    scope = policy.school_search_scope(actor)
    public = and_(School.status == SchoolStatus.ACTIVE, School.launch_mode == LaunchMode.OPEN)
    if scope is not None:
        user_id, schools = scope
        stmt = stmt.where(
            or_(
                public,
                School.registered_by_id == user_id if user_id is not None else false(),
                School.id.in_(sorted(schools)) if schools else false(),
            )
        )
    if flt.status is not None:
        stmt = stmt.where(School.status == flt.status)
    if flt.type is not None:
        stmt = stmt.where(School.type == flt.type)
    if flt.settlement_id is not None:
        stmt = stmt.where(School.settlement_id == flt.settlement_id)
    if flt.region_code is not None:
        stmt = stmt.where(
            School.settlement_id.in_(select(Settlement.id).where(Settlement.region_code == flt.region_code.strip()))
        )
    query = normalize_query(flt.query, field="query")
    if query is None:
        return SchoolSearch(
            stmt=stmt,
            key=[School.name_normalized, School.id],
            key_of=lambda row: [row.name_normalized, row.id],
        )
    matches: list[ColumnElement[bool]] = [School.name_normalized.like(f"%{escape_like(query)}%", escape="\\")]
    inn = _inn_of(query)
    if inn is not None:
        matches.append(School.inn == inn)
    return SchoolSearch(
        stmt=stmt.where(or_(*matches)),
        key=[_relevance(query), School.name_normalized, School.id],
        key_of=lambda row: [relevance_of(row, query), row.name_normalized, row.id],
    )
