"""Academic years with their periods (quarters, trimesters or semesters) and holidays."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.enums import PeriodKind
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.school_setup.checks import require_setup, required_text

PERIOD_COUNT = {PeriodKind.QUARTER: 4, PeriodKind.TRIMESTER: 3, PeriodKind.SEMESTER: 2}
PERIOD_WORD = {PeriodKind.QUARTER: "четверти", PeriodKind.TRIMESTER: "триместра", PeriodKind.SEMESTER: "полугодия"}


@dataclass(frozen=True, slots=True)
class DateRange:
    name: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True, slots=True)
class NewAcademicYear:
    school_id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    period_kind: PeriodKind
    periods: Sequence[DateRange]
    holidays: Sequence[DateRange] = ()


async def create_academic_year(session: AsyncSession, *, actor: Actor, data: NewAcademicYear) -> AcademicYear:
    """A year with its periods (count matching the kind, inside the year, not
    overlapping) and its holidays (inside the year)."""
    require_setup(actor, data.school_id)
    errors = ErrorCollector()
    name = required_text(errors, "name", data.name, 20)
    year_ok = data.starts_on < data.ends_on
    if not year_ok:
        errors.add("endsOn", ErrorCode.INVALID, "Год должен заканчиваться позже, чем начинается")
    expected = PERIOD_COUNT[data.period_kind]
    if len(data.periods) != expected:
        errors.add(
            "periods",
            ErrorCode.INVALID,
            f"Для деления на {PERIOD_WORD[data.period_kind]} нужно периодов: {expected}, указано: {len(data.periods)}",
        )
    _check_ranges(errors, "periods", data.periods, data, year_ok=year_ok, single_day_ok=False)
    ordered = sorted(enumerate(data.periods), key=lambda p: p[1].starts_on)
    for (_, prev), (i, cur) in itertools.pairwise(ordered):
        if cur.starts_on <= prev.ends_on:
            errors.add(("periods", str(i), "startsOn"), ErrorCode.CONFLICT, "Периоды не должны пересекаться")
    _check_ranges(errors, "holidays", data.holidays, data, year_ok=year_ok, single_day_ok=True)
    if name is not None:
        taken = await session.scalar(
            select(AcademicYear.id).where(AcademicYear.school_id == data.school_id, AcademicYear.name == name)
        )
        if taken is not None:
            errors.add("name", ErrorCode.DUPLICATE, "Учебный год с таким названием уже есть")
    errors.raise_if_any()
    assert name is not None  # noqa: S101 - checked above

    year = AcademicYear(
        school_id=data.school_id,
        name=name,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        period_kind=data.period_kind,
    )
    session.add(year)
    await session.flush()
    for number, (_, p) in enumerate(ordered, start=1):
        session.add(
            Period(
                academic_year_id=year.id, number=number, name=p.name.strip(), starts_on=p.starts_on, ends_on=p.ends_on
            )
        )
    for h in data.holidays:
        session.add(Holiday(school_id=data.school_id, name=h.name.strip(), starts_on=h.starts_on, ends_on=h.ends_on))
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createAcademicYear",
        entity_type="AcademicYear",
        entity_id=year.id,
        school_id=data.school_id,
        after={
            "name": name,
            "startsOn": data.starts_on.isoformat(),
            "endsOn": data.ends_on.isoformat(),
            "periodKind": data.period_kind.value,
            "periods": [[p.name, p.starts_on.isoformat(), p.ends_on.isoformat()] for _, p in ordered],
            "holidays": [[h.name, h.starts_on.isoformat(), h.ends_on.isoformat()] for h in data.holidays],
        },
    )
    return year


def _check_ranges(
    errors: ErrorCollector,
    key: str,
    ranges: Sequence[DateRange],
    year: NewAcademicYear,
    *,
    year_ok: bool,
    single_day_ok: bool,
) -> None:
    for i, r in enumerate(ranges):
        path = (key, str(i))
        required_text(errors, (*path, "name"), r.name, 50 if key == "periods" else 200)
        if r.ends_on < r.starts_on or (not single_day_ok and r.ends_on == r.starts_on):
            errors.add((*path, "endsOn"), ErrorCode.INVALID, "Окончание должно быть позже начала")
        elif year_ok and (r.starts_on < year.starts_on or r.ends_on > year.ends_on):
            errors.add((*path, "startsOn"), ErrorCode.INVALID, "Даты должны лежать внутри учебного года")
