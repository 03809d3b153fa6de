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


def zone_info(zone: str | None) -> ZoneInfo:
    """The IANA zone `zone`; Moscow when unknown."""
    try:
        return ZoneInfo(zone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def today_in(zone: str | None, *, now: dt.datetime | None = None) -> dt.date:
    """The date in `zone` (an IANA name; Moscow when unknown) at `now` (the present)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone_info(zone)).date()


def has_started(zone: str | None, day: dt.date, start: dt.time, *, now: dt.datetime | None = None) -> bool:
    """Whether a lesson on `day` at `start` (the school's wall clock in `zone`) has begun at `now`."""
    return dt.datetime.combine(day, start, tzinfo=zone_info(zone)) <= (now or dt.datetime.now(dt.UTC))


async def school_zone(session: AsyncSession, school_id: int) -> str | None:
    """The school's IANA zone (None for no such school: `today_in` takes Moscow then)."""
    return await session.scalar(select(School.timezone).where(School.id == school_id))


async def school_today(session: AsyncSession, school_id: int) -> dt.date:
    """Today at the school."""
    return today_in(await school_zone(session, school_id))


async def lesson_has_started(session: AsyncSession, school_id: int, day: dt.date, start: dt.time) -> bool:
    """Whether a lesson of the school on `day` at `start` has begun, by the school's own clock."""
    return has_started(await school_zone(session, school_id), day, start)
