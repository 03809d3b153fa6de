"""Resolvers of staff bindings: request (with a file), review, and the two lists."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import StaffBinding as StaffBindingRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.staff_bindings import (
    RequestStaffBindingInput,
    RequestStaffBindingPayload,
    ReviewStaffBindingInput,
    ReviewStaffBindingPayload,
    StaffBinding,
    StaffBindingFilter,
)
from ediary_gql.services import staff_bindings as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

Info = strawberry.Info[Context, None]


async def request_staff_binding(info: Info, input: RequestStaffBindingInput) -> RequestStaffBindingPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    document = UploadedFile(name=getattr(input.document, "filename", None), stream=input.document)
    try:
        async with transaction(ctx) as session:
            row = await service.request_staff_binding(
                session,
                actor=actor,
                data=service.BindingRequest(
                    school_inn=input.school_inn,
                    role=enums.StaffRole(input.role),
                    document_kind=enums.StaffDocumentKind(input.document_kind),
                    comment=input.comment,
                ),
                document=document,
                storage=storage_for(ctx.settings.upload_dir),
                settings=ctx.settings,
            )
    except DomainError as exc:
        return RequestStaffBindingPayload(user_errors=user_errors(exc))
    return RequestStaffBindingPayload(staff_binding=StaffBinding.from_row(row))


async def review_staff_binding(info: Info, input: ReviewStaffBindingInput) -> ReviewStaffBindingPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        binding_id = pk_of(input.binding_id, "StaffBinding", field="bindingId")
        async with transaction(ctx) as session:
            row = await service.review_staff_binding(
                session,
                actor=actor,
                binding_id=binding_id,
                decision=service.Decision(input.decision),
                reason=input.reason,
            )
    except DomainError as exc:
        return ReviewStaffBindingPayload(user_errors=user_errors(exc))
    return ReviewStaffBindingPayload(staff_binding=StaffBinding.from_row(row))


async def my_staff_bindings(info: Info, first: int | None = None, after: str | None = None) -> Connection[StaffBinding]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            service.own_bindings_query(actor),
            key=[StaffBindingRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )
    return to_connection(page, StaffBinding.from_row)


async def staff_bindings(
    info: Info,
    filter: StaffBindingFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[StaffBinding]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    school_id = None
    if filter is not None and filter.school_id is not None:
        school_id = pk_of(filter.school_id, "School", field="schoolId")
    status = enums.StaffBindingStatus(filter.status) if filter is not None and filter.status is not None else None
    stmt = service.review_queue_query(actor, service.BindingFilter(status=status, school_id=school_id))
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            stmt,
            key=[StaffBindingRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )
    return to_connection(page, StaffBinding.from_row)
