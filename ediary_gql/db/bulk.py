"""Writes of many rows in one statement, the same on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base


async def upsert(session: AsyncSession, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect that takes ON CONFLICT (both have the same API)."""
    dialect = (await session.connection()).dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


async def insert_ids(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], *, check: str
) -> list[int]:
    """Insert `rows` in one statement (a page of 1,000 each); their new ids, in the rows' order.

    PostgreSQL orders what RETURNING gives by a sentinel (still one statement). SQLite
    would fall back to a statement a row for that, so its ids are taken in increasing
    order instead: one INSERT gives its rows increasing rowids in the order of its VALUES.
    Either way the column `check` of each returned row is compared with the row's own, so
    an id is never paired with another row."""
    if not rows:
        return []
    table = model.__table__
    assert isinstance(table, Table)  # noqa: S101 - every model maps one table
    dialect = (await session.connection()).dialect.name
    ordered = dialect == "postgresql"
    stmt = insert(table).returning(table.c.id, table.c[check], sort_by_parameter_order=ordered)
    found = [(int(row[0]), row[1]) for row in await session.execute(stmt, list(rows))]
    if not ordered:
        found.sort()
    if [value for _, value in found] != [row[check] for row in rows]:
        raise RuntimeError(f"{table.name}: the inserted rows came back in another order")
    return [row_id for row_id, _ in found]
