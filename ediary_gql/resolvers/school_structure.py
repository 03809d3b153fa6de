"""What a school holds: academic years with their periods and holidays, subjects,
control types and classes, through per-request loaders; and who may see them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.grades import ControlType
from ediary_gql.resolvers.enrolments import family_school_ids
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.services.current_period import current_periods

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def may_view_school_structure(context: Context, school_id: int) -> bool:
    actor = context.actor
    if policy.can_view_school_structure(actor, school_id):
        return True
    return policy.can_view_school_structure(actor, school_id, family_school_ids=await family_school_ids(context))


async def _years(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, AcademicYear]]:
    rows = await session.scalars(
        select(AcademicYear).where(AcademicYear.school_id.in_(school_ids)).order_by(AcademicYear.starts_on.desc())
    )
    return [(r.school_id, r) for r in rows]


async def academic_years(context: Context, school_id: int) -> list[AcademicYear]:
    return await context.loaders.grouped(_years).load(school_id)


async def _periods(session: AsyncSession, year_ids: list[int]) -> list[tuple[int, Period]]:
    rows = await session.scalars(select(Period).where(Period.academic_year_id.in_(year_ids)).order_by(Period.number))
    return [(r.academic_year_id, r) for r in rows]


async def periods(context: Context, year_id: int) -> list[Period]:
    return await context.loaders.grouped(_periods).load(year_id)


CURRENT_PERIOD: LoaderKey[int, Period | None] = LoaderKey("school_structure.current_period")


async def current_period(context: Context, school_id: int) -> Period | None:
    """The school's current period (services/current_period.py), batched over the response's schools."""

    async def batch(school_ids: list[int]) -> list[Period | None]:
        async with context.read_session_factory() as session:
            found = await current_periods(session, school_ids=school_ids)
        return [found.get(i) for i in school_ids]

    return await context.loaders.get(CURRENT_PERIOD, batch).load(school_id)


async def _holidays(session: AsyncSession, year_ids: list[int]) -> list[tuple[int, Holiday]]:
    rows = await session.execute(
        select(AcademicYear.id, Holiday)
        .join(Holiday, Holiday.school_id == AcademicYear.school_id)
        .where(
            AcademicYear.id.in_(year_ids),
            Holiday.starts_on >= AcademicYear.starts_on,
            Holiday.ends_on <= AcademicYear.ends_on,
        )
        .order_by(Holiday.starts_on)
    )
    return [(y, h) for y, h in rows.all()]


async def holidays(context: Context, year_id: int) -> list[Holiday]:
    """The school's holidays that fall inside the year."""
    return await context.loaders.grouped(_holidays).load(year_id)


async def _subjects(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, Subject]]:
    rows = await session.scalars(
        select(Subject).where(Subject.school_id.in_(school_ids)).order_by(Subject.name, Subject.id)
    )
    return [(r.school_id, r) for r in rows]


async def subjects(context: Context, school_id: int) -> list[Subject]:
    return await context.loaders.grouped(_subjects).load(school_id)


async def _control_types(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, ControlType]]:
    rows = list(
        await session.scalars(
            select(ControlType)
            .where(or_(ControlType.school_id.in_(school_ids), ControlType.school_id.is_(None)))
            .order_by(ControlType.code)
        )
    )
    pairs: list[tuple[int, ControlType]] = []
    for school_id in school_ids:
        own = {r.code: r for r in rows if r.school_id == school_id}
        defaults = [r for r in rows if r.school_id is None and r.code not in own]
        pairs.extend((school_id, r) for r in sorted([*own.values(), *defaults], key=lambda r: r.code))
    return pairs


async def control_types(context: Context, school_id: int) -> list[ControlType]:
    """The school's own control types, and the defaults it has not redefined."""
    return await context.loaders.grouped(_control_types).load(school_id)


async def _classes(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, SchoolClass]]:
    rows = await session.scalars(
        select(SchoolClass)
        .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id)
        .where(SchoolClass.school_id.in_(school_ids))
        .order_by(AcademicYear.starts_on.desc(), SchoolClass.level, SchoolClass.letter)
    )
    return [(r.school_id, r) for r in rows]


async def classes(context: Context, school_id: int) -> list[SchoolClass]:
    return await context.loaders.grouped(_classes).load(school_id)
