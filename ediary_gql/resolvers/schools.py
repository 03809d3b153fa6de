"""Schools: register (with a file), review, open, search, one school. Inputs come decoded
(schema/ids.py); results are rows and pages, turned into types by schema/schools.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import School
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.resolvers import pages, school_fields
from ediary_gql.services import schools as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for


async def register_school(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    full_name: str,
    short_name: str,
    type: enums.SchoolType,
    inn: str,
    okpo: str,
    address: str,
    settlement_id: int,
    appointment_document: Any,
    kpp: str | None,
    phone: str | None,
    email: str | None,
    website: str | None,
) -> School:
    return await service.register_school(
        session,
        actor=actor,
        data=service.SchoolRegistration(
            full_name=full_name,
            short_name=short_name,
            type=enums.SchoolType(type),
            inn=inn,
            okpo=okpo,
            kpp=kpp,
            address=address,
            settlement_id=settlement_id,
            phone=phone,
            email=email,
            website=website,
        ),
        document=UploadedFile.of(appointment_document),
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def review_school(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    decision: service.Decision,
    reason: str | None,
) -> School:
    return await service.review_school(
        session, actor=actor, school_id=school_id, decision=service.Decision(decision), reason=reason
    )


async def open_school(ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int) -> School:
    return await service.open_school(session, actor=actor, school_id=school_id)


async def schools(
    ctx: Context,
    *,
    query: str | None,
    region_code: str | None,
    settlement_id: int | None,
    status: enums.SchoolStatus | None,
    type: enums.SchoolType | None,
    paging: PageArgs,
) -> Page[Any]:
    search = service.search_schools(
        ctx.actor,
        service.SchoolFilter(
            query=query, region_code=region_code, settlement_id=settlement_id, status=status, type=type
        ),
    )
    return await pages.page(ctx, search.stmt, paging, key=search.key, key_of=search.key_of)


async def school(ctx: Context, school_id: int | None) -> School | None:
    """A school by id; None if absent or not the viewer's to see (`school_id` None: no row's id)."""
    if school_id is None:
        return None
    row = await ctx.loaders.by_id(School).load(school_id)
    if row is None or not school_fields.may_view(ctx, row):
        return None
    return row
