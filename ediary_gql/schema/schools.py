"""Root fields of the schools area: registration, verification, opening, search."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import schools as resolvers
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.schools import OpenSchoolPayload, RegisterSchoolPayload, ReviewSchoolPayload


@strawberry.type
class SchoolsQuery:
    schools: Connection[School] = strawberry.field(
        resolver=resolvers.schools,
        description=(
            "Schools by a name fragment or INN, by relevance then name: everyone sees schools open to "
            "parents; staff also their schools, registrants their own registrations, operators all"
        ),
    )
    school: School | None = strawberry.field(
        resolver=resolvers.school, description="A school by ID; null if absent or not yours to see"
    )


@strawberry.type
class SchoolsMutation:
    register_school: RegisterSchoolPayload = strawberry.mutation(
        resolver=resolvers.register_school,
        description="Register a school for verification (multipart request: the appointment document is a file)",
    )
    review_school: ReviewSchoolPayload = strawberry.mutation(
        resolver=resolvers.review_school,
        description="Approve or reject a pending school registration (operators)",
    )
    open_school: OpenSchoolPayload = strawberry.mutation(
        resolver=resolvers.open_school,
        description="End the test launch and offer the school to parents (the school's admin or an operator)",
    )
