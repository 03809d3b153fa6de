"""Resolvers of parents' applications: drafts, submission, review, queues, live status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.applications import Application as ApplicationRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.events import channels
from ediary_gql.resolvers import streams
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import node_pk, pk_of
from ediary_gql.schema.types.application import (
    Application,
    ApplicationChildInput,
    ApplicationFileInput,
    ApplicationFilter,
    ApplicationPayload,
    CreateApplicationInput,
    ReviewApplicationInput,
    SubmitApplicationInput,
    UpdateApplicationInput,
)
from ediary_gql.services.applications import drafts, form, queries, review, submission
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

Info = strawberry.Info[Context, None]


def _opt_pk(global_id: relay.GlobalID | None, type_name: str, field: str) -> int | None:
    return None if global_id is None else pk_of(global_id, type_name, field=field)


def _child(data: ApplicationChildInput | None) -> form.ChildData:
    if data is None:
        return form.ChildData()
    cert = data.birth_certificate
    return form.ChildData(
        last_name=data.last_name,
        first_name=data.first_name,
        middle_name=data.middle_name,
        birth_date=data.birth_date,
        sex=enums.Sex(data.sex) if data.sex is not None else None,
        snils=data.snils,
        birth_cert_series=cert.series if cert else None,
        birth_cert_number=cert.number if cert else None,
        birth_cert_issued_on=cert.issued_on if cert else None,
        citizenship=data.citizenship,
    )


def _form(data: CreateApplicationInput | UpdateApplicationInput) -> form.ApplicationData:
    return form.ApplicationData(
        child=_child(data.child),
        region_code=(data.region_code or "").strip() or None,
        settlement_id=_opt_pk(data.settlement_id, "Settlement", "settlementId"),
        school_id=_opt_pk(data.school_id, "School", "schoolId"),
        class_id=_opt_pk(data.class_id, "SchoolClass", "classId"),
    )


def _files(ctx: Context, add: list[ApplicationFileInput] | None, remove: list[int] | None = None) -> form.Files:
    return form.Files(
        add=[
            form.NewFile(
                kind=enums.ApplicationAttachmentKind(f.kind),
                file=UploadedFile(name=getattr(f.file, "filename", None), stream=f.file),
            )
            for f in add or []
        ],
        remove=remove or [],
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def create_application(info: Info, input: CreateApplicationInput) -> ApplicationPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        data = _form(input)
        async with transaction(ctx) as session:
            row = await drafts.create_application(session, actor=actor, data=data, files=_files(ctx, input.attachments))
    except DomainError as exc:
        return ApplicationPayload(user_errors=user_errors(exc))
    return ApplicationPayload(application=Application.from_row(row))


async def update_application(info: Info, input: UpdateApplicationInput) -> ApplicationPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        application_id = pk_of(input.application_id, "Application", field="applicationId")
        data = _form(input)
        remove = [pk_of(g, "Attachment", field="removeAttachments") for g in input.remove_attachments or []]
        async with transaction(ctx) as session:
            row = await drafts.update_application(
                session,
                actor=actor,
                application_id=application_id,
                data=data,
                files=_files(ctx, input.attachments, remove),
            )
    except DomainError as exc:
        return ApplicationPayload(user_errors=user_errors(exc))
    return ApplicationPayload(application=Application.from_row(row))


async def submit_application(info: Info, input: SubmitApplicationInput) -> ApplicationPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        application_id = pk_of(input.application_id, "Application", field="applicationId")
        async with transaction(ctx) as session:
            row = await submission.submit_application(session, actor=actor, application_id=application_id)
    except DomainError as exc:
        return ApplicationPayload(user_errors=user_errors(exc))
    return ApplicationPayload(application=Application.from_row(row))


async def review_application(info: Info, input: ReviewApplicationInput) -> ApplicationPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        application_id = pk_of(input.application_id, "Application", field="applicationId")
        async with transaction(ctx) as session:
            row = await review.review_application(
                session,
                actor=actor,
                application_id=application_id,
                action=enums.ApplicationAction(input.action.value),
                comment=input.comment,
            )
    except DomainError as exc:
        return ApplicationPayload(user_errors=user_errors(exc))
    return ApplicationPayload(application=Application.from_row(row))


# --- reading ------------------------------------------------------------------------------


async def application(info: Info, id: relay.GlobalID) -> Application | None:
    """One application; null when absent or not the viewer's to see."""
    ctx = info.context
    policy.require_actor(ctx.actor)
    pk = node_pk(id, "Application")
    if pk is None:
        return None
    row = await ctx.loaders.by_id(ApplicationRow).load(pk)
    if row is None or not await Application.visible(ctx, row):
        return None
    return Application.from_row(row)


async def my_applications(info: Info, first: int | None = None, after: str | None = None) -> Connection[Application]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            queries.own_applications_query(actor),
            key=[ApplicationRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )
    return to_connection(page, Application.from_row)


async def applications(
    info: Info, filter: ApplicationFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[Application]:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    flt = queries.QueueFilter()
    if filter is not None:
        flt = queries.QueueFilter(
            status=enums.ApplicationStatus(filter.status) if filter.status is not None else None,
            overdue=filter.overdue,
            query=filter.query,
            school_id=_opt_pk(filter.school_id, "School", "schoolId"),
        )
    async with ctx.session_factory() as session:
        stmt = await queries.queue_query(session, actor=actor, flt=flt)
        page = await paginate(
            session,
            stmt,
            key=[ApplicationRow.due_on, ApplicationRow.id],
            key_of=lambda row: [row.due_on, row.id],
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )
    return to_connection(page, Application.from_row)


# --- live status ------------------------------------------------------------------------------


async def application_status_changed(
    info: Info, application_id: relay.GlobalID | None = None
) -> AsyncGenerator[Application, None]:
    """Each status change of one application (its applicant, its school's admins,
    operators) or, with no argument, of every application at the actor's schools."""
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    if application_id is not None:
        pk = pk_of(application_id, "Application", field="applicationId")
        async with ctx.session_factory() as session:
            row = await session.get(ApplicationRow, pk)
        if row is None or not policy.can_view_application(
            actor, applicant_id=row.applicant_id, school_id=row.school_id
        ):
            raise forbidden("Заявка не найдена или недоступна")
        names = [channels.application_status(pk)]
    else:
        scope = policy.application_queue_scope(actor)
        if not scope:  # operators follow applications one by one
            raise DomainError(ErrorCode.FORBIDDEN, "Укажите заявку (applicationId)")
        names = [channels.school_applications(school) for school in sorted(scope)]
    async for event in _merged(ctx, names):
        changed = event.get("application_id")
        if not isinstance(changed, int):
            continue
        await streams.ensure_session_active(ctx, actor)
        loaders = ctx.fresh_loaders()  # never serve rows cached earlier on this connection
        current = await loaders.by_id(ApplicationRow).load(changed)
        if current is not None and _may_follow(actor, current):
            yield Application.from_row(current)


def _may_follow(actor: Actor, row: ApplicationRow) -> bool:
    return policy.can_view_application(actor, applicant_id=row.applicant_id, school_id=row.school_id)


async def _merged(ctx: Context, names: list[str]) -> AsyncIterator[dict[str, Any]]:
    """The events of several channels as one stream (one per school of a staff member)."""
    if len(names) == 1:
        async for event in streams.events(ctx, names[0]):
            yield event
        return
    queue: asyncio.Queue[tuple[dict[str, Any] | None, BaseException | None]] = asyncio.Queue(maxsize=1000)

    def pump(name: str) -> Callable[[], Any]:
        async def run() -> None:
            try:
                async for event in streams.events(ctx, name):
                    await queue.put((event, None))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # handed to the consumer, which ends the stream with it
                queue.put_nowait((None, exc))
                return
            await queue.put((None, None))

        return run

    tasks = [asyncio.create_task(pump(name)()) for name in names]
    try:
        ended = 0
        while ended < len(tasks):
            item, error = await queue.get()
            if error is not None:
                raise error
            if item is None:
                ended += 1
                continue
            yield item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
