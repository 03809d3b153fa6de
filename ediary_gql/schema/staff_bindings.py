"""Root fields of staff bindings (part of the schools area)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import staff_bindings
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import optional_pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.staff_bindings import (
    RequestStaffBindingInput,
    RequestStaffBindingPayload,
    ReviewStaffBindingInput,
    ReviewStaffBindingPayload,
    StaffBinding,
    StaffBindingFilter,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class StaffBindingsQuery:
    @strawberry.field(description="The signed-in user's own requests, newest first")
    async def my_staff_bindings(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[StaffBinding]:
        page = await staff_bindings.my_staff_bindings(
            info.context, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, StaffBinding.from_row)

    @strawberry.field(
        description="Requests to review, oldest first: every school's for operators, their school's for school admins"
    )
    async def staff_bindings(
        self,
        info: Info,
        filter: Annotated[StaffBindingFilter | None, strawberry.argument(description="Which requests to list")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[StaffBinding]:
        page = await staff_bindings.staff_bindings(
            info.context,
            status=enums.StaffBindingStatus(filter.status) if filter and filter.status else None,
            school_id=optional_pk(filter.school_id, "School", field="schoolId") if filter else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, StaffBinding.from_row)


@strawberry.type
class StaffBindingsMutation:
    request_staff_binding: RequestStaffBindingPayload = mutation(
        staff_bindings.request_staff_binding,
        RequestStaffBindingInput,
        RequestStaffBindingPayload,
        description="Ask to act for a school in a role (multipart request: the document is a file)",
    )
    review_staff_binding: ReviewStaffBindingPayload = mutation(
        staff_bindings.review_staff_binding,
        ReviewStaffBindingInput,
        ReviewStaffBindingPayload,
        description="Approve or reject a pending request (operators: school admins; a school's admin: the rest)",
    )
