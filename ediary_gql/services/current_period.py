"""A school's current period (quarter, trimester, semester): what `School.currentPeriod`
shows and what `Child.averages` counts over when no period is named.

The current period is the one that contains the school's today (its own time zone,
services/school_time.py). Between two periods (the autumn holidays, the summer) it is
the latest one that has ended: a family opening the diary in the holidays sees the
quarter just finished. Before a school's first period begins there is none (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.schools import School
from ediary_gql.services.school_time import today_in


def pick_current(periods: Sequence[Period], today: dt.date) -> Period | None:
    """The period holding `today`, else the latest that ended before it, else None."""
    holding = [p for p in periods if p.starts_on <= today <= p.ends_on]
    if holding:
        return max(holding, key=lambda p: (p.starts_on, p.id))
    ended = [p for p in periods if p.ends_on < today]
    return max(ended, key=lambda p: (p.ends_on, p.id)) if ended else None


def _periods_by(key: InstrumentedAttribute[int]) -> Select[int, str, Period]:
    """(key, the school's zone, a period of the school) rows, to narrow with joins and a where."""
    return (
        select(key, School.timezone, Period)
        .select_from(School)
        .join(AcademicYear, AcademicYear.school_id == School.id)
        .join(Period, Period.academic_year_id == AcademicYear.id)
    )


async def _current(
    session: AsyncSession, stmt: Select[int, str, Period], now: dt.datetime | None
) -> dict[int, Period | None]:
    """One statement: every period begun by `now` anywhere, with its school's zone; then
    each school's own today picks."""
    moment = now or dt.datetime.now(dt.UTC)
    latest_today = moment.astimezone(dt.UTC).date() + dt.timedelta(days=1)  # no zone is a day ahead of UTC
    periods: dict[int, list[Period]] = {}
    zones: dict[int, str] = {}
    for owner, zone, period in (await session.execute(stmt.where(Period.starts_on <= latest_today))).all():
        periods.setdefault(int(owner), []).append(period)
        zones[int(owner)] = zone
    return {owner: pick_current(found, today_in(zones[owner], now=moment)) for owner, found in periods.items()}


async def current_periods(
    session: AsyncSession, *, school_ids: Sequence[int], now: dt.datetime | None = None
) -> dict[int, Period | None]:
    """School id → its current period (None, or absent, where there is none)."""
    if not school_ids:
        return {}
    return await _current(session, _periods_by(School.id).where(School.id.in_(school_ids)), now)


async def children_current_periods(
    session: AsyncSession, *, child_ids: Sequence[int], now: dt.datetime | None = None
) -> dict[int, Period | None]:
    """Child id → the current period of the school that holds the child's record (None, or
    absent, where there is none)."""
    if not child_ids:
        return {}
    stmt = _periods_by(Child.id).join(Child, Child.school_id == School.id).where(Child.id.in_(child_ids))
    return await _current(session, stmt, now)
