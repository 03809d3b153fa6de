"""Drafts: the applicant creates one and changes it (with its files) until submitting;
an application returned for correction is changed the same way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application, ApplicationAttachment
from ediary_gql.db.models.enums import ApplicationAttachmentKind, ApplicationStatus
from ediary_gql.errors import ErrorCode, ErrorCollector, forbidden
from ediary_gql.services import audit
from ediary_gql.services.applications.form import (
    MAX_ATTACHMENTS,
    NO_FILES,
    ApplicationData,
    Files,
    check_form,
)
from ediary_gql.services.applications.queries import get_visible
from ediary_gql.services.applications.status import A, S, add_history, next_status, not_allowed, snapshot
from ediary_gql.services.attachments import collect_attachment


async def create_application(
    session: AsyncSession,
    *,
    actor: Actor,
    data: ApplicationData,
    files: Files = NO_FILES,
    now: dt.datetime | None = None,
) -> Application:
    """A DRAFT of the actor's, with whatever is filled in (each given field well-formed)."""
    policy.require_may_apply(actor)
    now = now or utcnow()
    errors = ErrorCollector()
    values = await check_form(session, errors, data, now.date())
    app = Application(applicant_id=actor.user_id, status=S.DRAFT, extended=False, **values)
    if not errors:
        session.add(app)
        await session.flush()
    await _apply_files(session, errors, actor=actor, app=app, files=files)
    errors.raise_if_any()
    add_history(session, app, actor=actor, from_status=None, action=A.CREATE)
    audit.record(
        session,
        actor=actor,
        action="createApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        after=snapshot(app),
    )
    return app


async def update_application(
    session: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    data: ApplicationData,
    files: Files = NO_FILES,
    now: dt.datetime | None = None,
) -> Application:
    """Replace the form of a DRAFT or of an application returned for correction."""
    app = await get_visible(session, actor, application_id, lock=True)
    if not policy.can_edit_application(actor, applicant_id=app.applicant_id):
        raise forbidden("Изменять заявку может только заявитель")
    status = ApplicationStatus(app.status)
    if next_status(status, A.UPDATE) is None:
        raise not_allowed(status, A.UPDATE, "applicationId")
    now = now or utcnow()
    errors = ErrorCollector()
    values = await check_form(session, errors, data, now.date())
    if status == S.NEEDS_CORRECTION and values["school_id"] != app.school_id:
        # the school reviewing it keeps it: a different school is a new application
        errors.add("schoolId", ErrorCode.INVALID_STATE, "Школу поданной заявки изменить нельзя")
    if errors:
        await _apply_files(session, errors, actor=actor, app=app, files=files)
        errors.raise_if_any()
    before = snapshot(app)
    for key, value in values.items():
        setattr(app, key, value)
    await session.flush()
    await _apply_files(session, errors, actor=actor, app=app, files=files)
    errors.raise_if_any()
    add_history(session, app, actor=actor, from_status=status, action=A.UPDATE)
    audit.record(
        session,
        actor=actor,
        action="updateApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        before=before,
        after=snapshot(app),
    )
    return app


async def _apply_files(
    session: AsyncSession, errors: ErrorCollector, *, actor: Actor, app: Application, files: Files
) -> None:
    """Store the new files (each checked, even when other fields are wrong, so every problem
    is told at once) and unlink the removed ones; nothing is written while `errors` has any."""
    stored: list[tuple[ApplicationAttachmentKind, int]] = []
    for n, new in enumerate(files.add):
        if files.storage is None or files.settings is None:
            raise RuntimeError("files to add need a storage and settings")
        attachment = await collect_attachment(
            session,
            errors,
            actor=actor,
            upload_name=new.file.name,
            stream=new.file.stream,
            storage=files.storage,
            settings=files.settings,
            field=("attachments", str(n), "file"),
        )
        if attachment is not None:
            stored.append((new.kind, attachment.id))
    current: list[int] = []
    if app.id is not None:
        current = list(
            (
                await session.scalars(
                    select(ApplicationAttachment.attachment_id).where(ApplicationAttachment.application_id == app.id)
                )
            ).all()
        )
    for n, attachment_id in enumerate(files.remove):
        if attachment_id not in current:
            errors.add(("removeAttachments", str(n)), ErrorCode.NOT_FOUND, "Такого файла в заявке нет")
    if len(current) - len(set(files.remove) & set(current)) + len(stored) > MAX_ATTACHMENTS:
        errors.add("attachments", ErrorCode.INVALID, f"Не больше {MAX_ATTACHMENTS} файлов в заявке")
    if errors or app.id is None:
        return
    for attachment_id in files.remove:
        link = (
            await session.scalars(
                select(ApplicationAttachment).where(
                    ApplicationAttachment.application_id == app.id,
                    ApplicationAttachment.attachment_id == attachment_id,
                )
            )
        ).first()
        if link is not None:
            await session.delete(link)
    for kind, attachment_id in stored:
        session.add(ApplicationAttachment(application_id=app.id, attachment_id=attachment_id, kind=kind))
    await session.flush()
