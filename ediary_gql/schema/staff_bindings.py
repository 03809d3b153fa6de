"""Root fields of staff bindings (part of the schools area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import staff_bindings
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.staff_bindings import (
    RequestStaffBindingPayload,
    ReviewStaffBindingPayload,
    StaffBinding,
)


@strawberry.type
class StaffBindingsQuery:
    my_staff_bindings: Connection[StaffBinding] = strawberry.field(
        resolver=staff_bindings.my_staff_bindings, description="The signed-in user's own requests, newest first"
    )
    staff_bindings: Connection[StaffBinding] = strawberry.field(
        resolver=staff_bindings.staff_bindings,
        description="Requests to review, oldest first: every school's for operators, their school's for school admins",
    )


@strawberry.type
class StaffBindingsMutation:
    request_staff_binding: RequestStaffBindingPayload = strawberry.mutation(
        resolver=staff_bindings.request_staff_binding,
        description="Ask to act for a school in a role (multipart request: the document is a file)",
    )
    review_staff_binding: ReviewStaffBindingPayload = strawberry.mutation(
        resolver=staff_bindings.review_staff_binding,
        description="Approve or reject a pending request (operators: school admins; a school's admin: the rest)",
    )
