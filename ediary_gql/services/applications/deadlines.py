"""Time: "today" in the school's zone, due dates in working days, overdue applications."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.enums import ApplicationStatus
from ediary_gql.db.models.schools import School
from ediary_gql.services.applications.status import WITH_SCHOOL
from ediary_gql.services.production_calendar import load_calendar

DUE_WORKING_DAYS = 5
EXTENDED_DUE_WORKING_DAYS = 10
DEFAULT_TIMEZONE = "Europe/Moscow"


def zone(name: str) -> ZoneInfo:
    """The named time zone; Moscow when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def school_zone(school: School | None) -> ZoneInfo:
    return zone(school.timezone if school is not None else DEFAULT_TIMEZONE)


def local_date(moment: dt.datetime, school: School | None) -> dt.date:
    return moment.astimezone(school_zone(school)).date()


async def due_date(session: AsyncSession, submitted_on: dt.date, *, extended: bool) -> dt.date:
    """5 (extended: 10) working days after the submission date, by the production calendar."""
    calendar = await load_calendar(session, submitted_on)
    return calendar.add_working_days(submitted_on, EXTENDED_DUE_WORKING_DAYS if extended else DUE_WORKING_DAYS)


async def overdue_condition(session: AsyncSession, now: dt.datetime) -> ColumnElement[bool]:
    """Waiting for the school past the due date, "today" read in each school's time zone."""
    zones = (await session.scalars(select(School.timezone).distinct())).all()
    per_zone = [
        and_(
            Application.school_id.in_(select(School.id).where(School.timezone == name)),
            Application.due_on < now.astimezone(zone(name)).date(),
        )
        for name in zones
    ]
    return and_(Application.status.in_(WITH_SCHOOL), or_(false(), *per_zone))


def is_overdue(app: Application, school: School | None, now: dt.datetime | None = None) -> bool:
    today = local_date(now or utcnow(), school)
    return ApplicationStatus(app.status) in WITH_SCHOOL and app.due_on is not None and app.due_on < today
