"""Review by the school's admin: one action of the status machine at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import ApplicationAction, ApplicationStatus
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.services.applications.approval import find_or_create_child, grant_access
from ediary_gql.services.applications.deadlines import due_date, local_date
from ediary_gql.services.applications.form import clean_text
from ediary_gql.services.applications.notices import notify_applicant
from ediary_gql.services.applications.queries import get_visible
from ediary_gql.services.applications.status import REVIEW_ACTIONS, A, next_status, not_allowed, transition
from ediary_gql.services.child_transfers import notify_guardians_of_new, offer_transfers

MAX_COMMENT_LENGTH = 2000


async def review_application(
    session: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    action: ApplicationAction,
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """One review action by the school's admin. Of two reviewers acting at once exactly one
    wins; the other is told the status the application is in now (INVALID_STATE)."""
    # the row lock makes concurrent reviewers queue: the second reads what the first decided
    app = await get_visible(session, actor, application_id, lock=True)
    if not policy.can_review_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        if actor.user_id == app.applicant_id:
            raise forbidden("Нельзя рассматривать собственную заявку")
        raise forbidden("Заявку рассматривает администратор школы")
    if action not in REVIEW_ACTIONS:
        raise DomainError(ErrorCode.INVALID, "Это не действие проверки заявки", field="action")
    status = ApplicationStatus(app.status)
    errors = ErrorCollector()
    comment = clean_text(comment)
    if comment and len(comment) > MAX_COMMENT_LENGTH:
        errors.add("comment", ErrorCode.TOO_LONG, f"Не длиннее {MAX_COMMENT_LENGTH} символов")
    if action == A.REJECT and comment is None:
        errors.add("comment", ErrorCode.REQUIRED, "Укажите причину отказа")
    if action == A.REQUEST_CORRECTION and comment is None:
        errors.add("comment", ErrorCode.REQUIRED, "Напишите, что нужно исправить")
    target = next_status(status, action)
    if target is None:
        errors.errors.extend(not_allowed(status, action).errors)
    elif action == A.EXTEND and app.extended:
        errors.add("action", ErrorCode.INVALID_STATE, "Срок рассмотрения уже продлён")
    errors.raise_if_any()
    now = now or utcnow()

    values: dict[str, Any] = {}
    if action == A.EXTEND:
        school = await session.get_one(School, app.school_id)
        submitted = app.submitted_at or now
        values = {"extended": True, "due_on": await due_date(session, local_date(submitted, school), extended=True)}
    elif action == A.REJECT:
        values = {"rejection_reason": comment, "decided_at": now}
    child: Child | None = None
    created = False
    if action == A.APPROVE:
        child, created = await find_or_create_child(session, app)
        values = {"decided_at": now, "child_id": child.id}
    await transition(session, app, actor=actor, action=action, expected=status, values=values, comment=comment)
    if child is not None:
        await grant_access(session, app, child, now=now)
        if created and app.school_id is not None:  # another school may hold this child: it and the guardians are asked
            await offer_transfers(
                session, records=[child], school_id=app.school_id, requested_by_id=actor.user_id, application_id=app.id
            )
        else:  # the school's own child: its other guardians are told of the new one
            await notify_guardians_of_new(session, child=child, new_parent_id=app.applicant_id)
    await notify_applicant(session, app, action=action, comment=comment)
    return app
