"""A school's own date: "today" where the school is, not where the server runs.

Russia spans eleven time zones; a Vladivostok school's morning is the previous
evening in UTC. Dates a school's staff act on (a final grade's date, the day a
roster import moves a child) are that school's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.schools import School

DEFAULT_ZONE = "Europe/Moscow"


def today_in(zone: str | None, *, now: dt.datetime | None = None) -> dt.date:
    """The date in `zone` (an IANA name; Moscow when unknown) at `now` (the present)."""
    try:
        tz = ZoneInfo(zone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_ZONE)
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()


async def school_today(session: AsyncSession, school_id: int) -> dt.date:
    """Today at the school."""
    return today_in(await session.scalar(select(School.timezone).where(School.id == school_id)))
