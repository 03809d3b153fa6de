"""Per-year counters behind public numbers (applications' ED-…, feedback tickets' FB-…)."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.applications import ApplicationNumberCounter
from ediary_gql.db.models.feedback import FeedbackNumberCounter


async def next_in_year(
    session: AsyncSession, counter: type[ApplicationNumberCounter] | type[FeedbackNumberCounter], year: int
) -> int:
    """The year's counter raised atomically (the UPDATE holds the row until commit), so
    two callers never get the same value; the year's row is made on first use."""
    stmt = (
        update(counter)
        .where(counter.year == year)
        .values(last_value=counter.last_value + 1)
        .returning(counter.last_value)
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is None:
        try:
            async with session.begin_nested():
                await session.execute(insert(counter).values(year=year, last_value=0))
        except IntegrityError:
            pass  # another caller made the year's counter first
        value = (await session.execute(stmt)).scalar_one()
    return int(value)
