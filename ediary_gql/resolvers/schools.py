"""Resolvers of the schools area: register (with a file), review, open, search, one school."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import node_pk, pk_of
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
from ediary_gql.services import schools as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

Info = strawberry.Info[Context, None]


async def register_school(info: Info, input: RegisterSchoolInput) -> RegisterSchoolPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    document = UploadedFile(
        name=getattr(input.appointment_document, "filename", None), stream=input.appointment_document
    )
    try:
        settlement_id = pk_of(input.settlement_id, "Settlement", field="settlementId")
        async with transaction(ctx) as session:
            row = await service.register_school(
                session,
                actor=actor,
                data=service.SchoolRegistration(
                    full_name=input.full_name,
                    short_name=input.short_name,
                    type=enums.SchoolType(input.type),
                    inn=input.inn,
                    okpo=input.okpo,
                    kpp=input.kpp,
                    address=input.address,
                    settlement_id=settlement_id,
                    phone=input.phone,
                    email=input.email,
                    website=input.website,
                ),
                document=document,
                storage=storage_for(ctx.settings.upload_dir),
                settings=ctx.settings,
            )
    except DomainError as exc:
        return RegisterSchoolPayload(user_errors=user_errors(exc))
    return RegisterSchoolPayload(school=School.from_row(row))


async def review_school(info: Info, input: ReviewSchoolInput) -> ReviewSchoolPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        async with transaction(ctx) as session:
            row = await service.review_school(
                session,
                actor=actor,
                school_id=school_id,
                decision=service.Decision(input.decision),
                reason=input.reason,
            )
    except DomainError as exc:
        return ReviewSchoolPayload(user_errors=user_errors(exc))
    return ReviewSchoolPayload(school=School.from_row(row))


async def open_school(info: Info, input: OpenSchoolInput) -> OpenSchoolPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        async with transaction(ctx) as session:
            row = await service.open_school(session, actor=actor, school_id=school_id)
    except DomainError as exc:
        return OpenSchoolPayload(user_errors=user_errors(exc))
    return OpenSchoolPayload(school=School.from_row(row))


async def schools(
    info: Info, filter: SchoolFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[School]:
    ctx = info.context
    flt = filter or SchoolFilter()
    search = service.search_schools(
        ctx.actor,
        service.SchoolFilter(
            query=flt.query,
            region_code=flt.region_code,
            settlement_id=(
                pk_of(flt.settlement_id, "Settlement", field="settlementId") if flt.settlement_id is not None else None
            ),
            status=enums.SchoolStatus(flt.status) if flt.status is not None else None,
            type=enums.SchoolType(flt.type) if flt.type is not None else None,
        ),
    )
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            search.stmt,
            key=search.key,
            key_of=search.key_of,
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )
    return to_connection(page, School.from_row)


async def school(info: Info, id: relay.GlobalID) -> School | None:
    pk = node_pk(id, "School")
    if pk is None:
        return None
    row: SchoolRow | None = await info.context.loaders.by_id(SchoolRow).load(pk)
    if row is None or not await School.visible(info.context, row):
        return None
    return School.from_row(row)
