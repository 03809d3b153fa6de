"""Root fields of the schools area: registration, verification, opening, search."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import schools
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import optional_pk, pk_or_none
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.schools import (
    OpenSchoolInput,
    OpenSchoolPayload,
    RegisterSchoolInput,
    RegisterSchoolPayload,
    ReviewSchoolInput,
    ReviewSchoolPayload,
    SchoolFilter,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class SchoolsQuery:
    @strawberry.field(
        description=(
            "Schools by a name fragment or INN, by relevance then name: everyone sees schools open to "
            "parents; staff also their schools, registrants their own registrations, operators all"
        )
    )
    async def schools(
        self,
        info: Info,
        filter: Annotated[
            SchoolFilter | None,
            strawberry.argument(description="Which schools to list: by name, region, settlement, status, type"),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[School]:
        flt = filter or SchoolFilter()
        page = await schools.schools(
            info.context,
            query=flt.query,
            region_code=flt.region_code,
            settlement_id=optional_pk(flt.settlement_id, "Settlement", field="settlementId"),
            status=enums.SchoolStatus(flt.status) if flt.status is not None else None,
            type=enums.SchoolType(flt.type) if flt.type is not None else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, School.from_row)

    @strawberry.field(description="A school by ID; null if absent or not yours to see")
    async def school(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The school's global ID")]
    ) -> School | None:
        row = await schools.school(info.context, pk_or_none(id, "School"))
        return School.from_row(row) if row is not None else None


@strawberry.type
class SchoolsMutation:
    register_school: RegisterSchoolPayload = mutation(
        schools.register_school,
        RegisterSchoolInput,
        RegisterSchoolPayload,
        description="Register a school for verification (multipart request: the appointment document is a file)",
    )
    review_school: ReviewSchoolPayload = mutation(
        schools.review_school,
        ReviewSchoolInput,
        ReviewSchoolPayload,
        description="Approve or reject a pending school registration (operators)",
    )
    open_school: OpenSchoolPayload = mutation(
        schools.open_school,
        OpenSchoolInput,
        OpenSchoolPayload,
        description="End the test launch and offer the school to parents (the school's admin or an operator)",
    )
