"""Parents' applications: drafts, submission, review, the two lists and the live status.
Inputs come decoded (schema/ids.py); results are rows, pages and feeds, turned into types
by schema/applications.py."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.applications import Application
from ediary_gql.db.pagination import Page, PageArgs, paginate
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.resolvers import pages
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services.applications import drafts, form, queries, review, submission
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

NOT_YOURS = "Заявка не найдена или недоступна"
NOT_YOUR_SCHOOLS = "Заявки школы видят её администраторы и операторы портала"  # as the policy says


def _child(data: Mapping[str, Any] | None) -> form.ChildData:
    if data is None:
        return form.ChildData()
    cert = data["birth_certificate"]
    return form.ChildData(
        last_name=data["last_name"],
        first_name=data["first_name"],
        middle_name=data["middle_name"],
        birth_date=data["birth_date"],
        sex=enums.Sex(data["sex"]) if data["sex"] is not None else None,
        snils=data["snils"],
        birth_cert_series=cert["series"] if cert else None,
        birth_cert_number=cert["number"] if cert else None,
        birth_cert_issued_on=cert["issued_on"] if cert else None,
        citizenship=data["citizenship"],
    )


def _form(
    child: Mapping[str, Any] | None,
    region_code: str | None,
    settlement_id: int | None,
    school_id: int | None,
    class_id: int | None,
) -> form.ApplicationData:
    return form.ApplicationData(
        child=_child(child),
        region_code=(region_code or "").strip() or None,
        settlement_id=settlement_id,
        school_id=school_id,
        class_id=class_id,
    )


def _files(ctx: Context, add: list[Mapping[str, Any]] | None, remove: list[int] | None = None) -> form.Files:
    return form.Files(
        add=[
            form.NewFile(
                kind=enums.ApplicationAttachmentKind(f["kind"]),
                file=UploadedFile.of(f["file"]),
            )
            for f in add or []
        ],
        remove=remove or [],
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def create_application(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    child: Mapping[str, Any] | None,
    region_code: str | None,
    settlement_id: int | None,
    school_id: int | None,
    class_id: int | None,
    attachments: list[Mapping[str, Any]] | None,
) -> Application:
    return await drafts.create_application(
        session,
        actor=actor,
        data=_form(child, region_code, settlement_id, school_id, class_id),
        files=_files(ctx, attachments),
    )


async def update_application(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    application_id: int,
    child: Mapping[str, Any] | None,
    region_code: str | None,
    settlement_id: int | None,
    school_id: int | None,
    class_id: int | None,
    attachments: list[Mapping[str, Any]] | None,
    remove_attachments: list[int] | None,
) -> Application:
    return await drafts.update_application(
        session,
        actor=actor,
        application_id=application_id,
        data=_form(child, region_code, settlement_id, school_id, class_id),
        files=_files(ctx, attachments, remove_attachments),
    )


async def submit_application(ctx: Context, session: AsyncSession, actor: Actor, *, application_id: int) -> Application:
    return await submission.submit_application(session, actor=actor, application_id=application_id)


async def review_application(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    application_id: int,
    action: enum.Enum,
    comment: str | None,
) -> Application:
    return await review.review_application(
        session,
        actor=actor,
        application_id=application_id,
        action=enums.ApplicationAction(action.value),
        comment=comment,
    )


# --- reading ------------------------------------------------------------------------------


def may_view(actor: Actor | None, row: Application) -> bool:
    return policy.can_view_application(actor, applicant_id=row.applicant_id, school_id=row.school_id)


async def application(ctx: Context, *, application_id: int | None) -> Application | None:
    """One application; None when absent (or no application's ID) or not the viewer's to see."""
    actor = policy.require_actor(ctx.actor)
    if application_id is None:
        return None
    row = await ctx.loaders.by_id(Application).load(application_id)
    if row is None or not may_view(actor, row):
        return None
    return row


async def my_applications(ctx: Context, *, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(ctx, queries.own_applications_query(actor), paging, descending=True)


async def applications(
    ctx: Context,
    *,
    status: enums.ApplicationStatus | None,
    overdue: bool | None,
    query: str | None,
    school_id: int | None,
    paging: PageArgs,
) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    flt = queries.QueueFilter(status=status, overdue=overdue, query=query, school_id=school_id)
    async with ctx.session_factory() as session:
        stmt = await queries.queue_query(session, actor=actor, flt=flt)
        return await paginate(
            session,
            stmt,
            key=[Application.due_on, Application.id],
            key_of=lambda row: [row.due_on, row.id],
            args=paging,
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )


# --- live status ------------------------------------------------------------------------------


def status_feed(ctx: Context, *, application_id: int | None) -> Feed[Application]:
    """Each status change of one application (its applicant, its school's admins,
    operators) or, with no ID, of every application at the actor's schools (their admins).
    Whoever loses the right (a membership ended) is refused at the next event."""
    if application_id is not None:
        return Feed(
            channels=[channels.application_status(application_id)],
            may_follow=functools.partial(_may_follow_one, application_id=application_id),
            read=_changed,
            refused=NOT_YOURS,
        )
    actor = policy.require_actor(ctx.actor)
    scope = policy.application_queue_scope(actor)
    if scope is None:  # operators follow applications one by one
        raise DomainError(ErrorCode.FORBIDDEN, "Укажите заявку (applicationId)")
    schools = frozenset(scope)
    return Feed(
        channels=[channels.school_applications(school) for school in sorted(schools)],
        may_follow=functools.partial(_may_follow_schools, schools=schools),
        read=_changed,
        refused=NOT_YOUR_SCHOOLS,
    )


async def _may_follow_one(ctx: Context, *, application_id: int) -> bool:
    row = await ctx.loaders.by_id(Application).load(application_id)
    return row is not None and may_view(ctx.actor, row)


async def _may_follow_schools(ctx: Context, *, schools: frozenset[int]) -> bool:
    """Still an admin of every school the stream follows (or an operator by now); an admin
    of none is refused by the policy itself, which ends the stream with FORBIDDEN alike."""
    scope = policy.application_queue_scope(policy.require_actor(ctx.actor))
    return scope is None or schools <= scope


async def _changed(ctx: Context, heard: Heard) -> Application | None:
    """The application an event is about, as it is now (read through the event's loaders,
    which its nested fields use too)."""
    changed = heard.event.get("application_id")
    if not isinstance(changed, int):
        return None
    row = await ctx.loaders.by_id(Application).load(changed)
    return row if row is not None and may_view(ctx.actor, row) else None
