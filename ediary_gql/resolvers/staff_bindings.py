"""Staff bindings: request (with a file), review, and the two lists. Inputs come decoded
(schema/ids.py); results are rows and pages, turned into types by schema/staff_bindings.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import StaffBinding
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.resolvers import pages
from ediary_gql.services import staff_bindings as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for


async def request_staff_binding(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_inn: str,
    role: enums.StaffRole,
    document_kind: enums.StaffDocumentKind,
    document: Any,
    comment: str | None,
) -> StaffBinding:
    return await service.request_staff_binding(
        session,
        actor=actor,
        data=service.BindingRequest(school_inn=school_inn, role=role, document_kind=document_kind, comment=comment),
        document=UploadedFile.of(document),
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def review_staff_binding(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    binding_id: int,
    decision: service.Decision,
    reason: str | None,
) -> StaffBinding:
    return await service.review_staff_binding(
        session, actor=actor, binding_id=binding_id, decision=decision, reason=reason
    )


async def my_staff_bindings(ctx: Context, *, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(ctx, service.own_bindings_query(actor), paging, descending=True)


async def staff_bindings(
    ctx: Context,
    *,
    status: enums.StaffBindingStatus | None,
    school_id: int | None,
    paging: PageArgs,
) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    stmt = service.review_queue_query(actor, service.BindingFilter(status=status, school_id=school_id))
    return await pages.page(ctx, stmt, paging)
