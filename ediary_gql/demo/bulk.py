"""Core bulk inserts: many rows per statement, no ORM objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base

Row = dict[str, Any]

CHUNK = 5_000
RETURNING_CHUNK = 2_000


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _uniform(table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    # An executemany compiles one statement for the first row's keys: every row must match.
    keys = rows[0].keys()
    for row in rows:
        if row.keys() != keys:
            raise ValueError(f"{table.name}: rows with different columns ({sorted(keys ^ row.keys())})")


async def insert_rows(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], *, chunk: int = CHUNK
) -> int:
    """INSERT the rows in chunks; returns how many.

    RETURNING the key makes SQLAlchemy send multi-row VALUES batches ("insertmanyvalues"),
    about twice as fast as a plain executemany on asyncpg, and faster on SQLite too.
    """
    if not rows:
        return 0
    table = table_of(model)
    _uniform(table, rows)
    stmt = insert(table).returning(*table.primary_key.columns)
    for start in range(0, len(rows), chunk):
        (await session.execute(stmt, list(rows[start : start + chunk]))).close()
    return len(rows)


async def insert_ids(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], *, chunk: int = RETURNING_CHUNK
) -> list[int]:
    """INSERT the rows and return their new ids, in the order of `rows`."""
    if not rows:
        return []
    table = table_of(model)
    _uniform(table, rows)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), chunk):
        result = await session.execute(stmt, list(rows[start : start + chunk]))
        ids.extend(int(i) for i in result.scalars().all())
    if len(ids) != len(rows):  # pragma: no cover - the driver returned fewer rows
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted, {len(ids)} ids returned")
    return ids


async def insert_one(session: AsyncSession, model: type[Base], row: Mapping[str, Any]) -> int:
    return (await insert_ids(session, model, [row]))[0]
