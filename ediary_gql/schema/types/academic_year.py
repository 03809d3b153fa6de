"""AcademicYear, its periods (quarters, trimesters, semesters) and school holidays."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import AcademicYear as AcademicYearRow
from ediary_gql.db.models.calendar import Holiday as HolidayRow
from ediary_gql.db.models.calendar import Period as PeriodRow
from ediary_gql.resolvers import school_structure
from ediary_gql.schema.node import EntityNode

if TYPE_CHECKING:
    from ediary_gql.context import Context

PeriodKind = strawberry.enum(enums.PeriodKind, description="How a year is divided: quarters, trimesters or semesters")


@strawberry.type(name="Period", description="A quarter, trimester or semester of an academic year")
class Period(EntityNode):
    model = PeriodRow

    id: relay.NodeID[int]
    number: int = strawberry.field(description="1-based position in the year")
    name: str = strawberry.field(description="The name people see")
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date = strawberry.field(description="Last day, inclusive")
    _academic_year_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            name=row.name,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            _academic_year_id=row.academic_year_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        year = await context.loaders.by_id(AcademicYearRow).load(row.academic_year_id)
        return year is not None and await school_structure.may_view_school_structure(context, year.school_id)


@strawberry.type(name="Holiday", description="School holidays (каникулы) or a day off: no lessons")
class Holiday(EntityNode):
    model = HolidayRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date = strawberry.field(description="Last day, inclusive (equal to startsOn for one day)")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.id, name=row.name, starts_on=row.starts_on, ends_on=row.ends_on)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await school_structure.may_view_school_structure(context, row.school_id)


@strawberry.type(name="AcademicYear", description="A school's academic year, e.g. 2026/2027")
class AcademicYear(EntityNode):
    model = AcademicYearRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date = strawberry.field(description="Last day, inclusive")
    period_kind: PeriodKind = strawberry.field(  # type: ignore[valid-type]
        description="How the year is divided into periods"
    )
    _school_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            period_kind=enums.PeriodKind(row.period_kind),
            _school_id=row.school_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await school_structure.may_view_school_structure(context, row.school_id)

    @strawberry.field(description="Periods in order")
    async def periods(self, info: strawberry.Info[Context, None]) -> list[Period]:
        return [Period.from_row(r) for r in await school_structure.periods(info.context, self.id)]

    @strawberry.field(description="The school's holidays inside this year, by date")
    async def holidays(self, info: strawberry.Info[Context, None]) -> list[Holiday]:
        return [Holiday.from_row(r) for r in await school_structure.holidays(info.context, self.id)]
