"""The status machine: the one table of what may happen to an application, and the
move itself, kept in the history and the audit trail and published after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application, ApplicationEvent
from ediary_gql.db.models.enums import ApplicationAction, ApplicationStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ApplicationStatusChanged
from ediary_gql.services import audit

S = ApplicationStatus
A = ApplicationAction

# (status, action) → the status after it. Review actions belong to the school's
# admin, SUBMIT and UPDATE to the applicant. EXTEND keeps the status (and may be
# taken once: see `review.review_application`).
TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationAction], ApplicationStatus] = {
    (S.DRAFT, A.UPDATE): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.NEEDS_CORRECTION, A.UPDATE): S.NEEDS_CORRECTION,
    (S.NEEDS_CORRECTION, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.EXTEND): S.SUBMITTED,
    (S.ACCEPTED, A.START_REVIEW): S.IN_REVIEW,
    (S.ACCEPTED, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.ACCEPTED, A.EXTEND): S.ACCEPTED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.IN_REVIEW, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.IN_REVIEW, A.EXTEND): S.IN_REVIEW,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
}
REVIEW_ACTIONS = (A.ACCEPT, A.START_REVIEW, A.REQUEST_CORRECTION, A.EXTEND, A.APPROVE, A.REJECT)
# Waiting for the school: these count towards the due date and can become overdue.
WITH_SCHOOL = frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_REVIEW})

STATUS_NAMES = {
    S.DRAFT: "черновик",
    S.SUBMITTED: "подана",
    S.ACCEPTED: "принята к рассмотрению",
    S.IN_REVIEW: "на проверке",
    S.NEEDS_CORRECTION: "требует исправления",
    S.APPROVED: "одобрена",
    S.REJECTED: "отклонена",
}
ACTION_NAMES = {
    A.CREATE: "создать",
    A.UPDATE: "изменить",
    A.SUBMIT: "подать",
    A.ACCEPT: "принять",
    A.START_REVIEW: "начать проверку",
    A.REQUEST_CORRECTION: "вернуть на исправление",
    A.EXTEND: "продлить срок",
    A.APPROVE: "одобрить",
    A.REJECT: "отклонить",
}


def next_status(status: ApplicationStatus, action: ApplicationAction) -> ApplicationStatus | None:
    """The status `action` leads to from `status`; None when the machine does not allow it."""
    return TRANSITIONS.get((status, action))


def not_allowed(status: ApplicationStatus, action: ApplicationAction, field: str = "action") -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATE,
        f"Действие «{ACTION_NAMES[action]}» невозможно: заявка в статусе «{STATUS_NAMES[status]}» ({status.value})",
        field=field,
    )


def available_actions(actor: Actor | None, app: Application) -> list[ApplicationAction]:
    """What this viewer may do with the application now (for buttons in a UI)."""
    status = ApplicationStatus(app.status)
    actions: list[ApplicationAction] = []
    if policy.can_edit_application(actor, applicant_id=app.applicant_id):
        actions += [a for a in (A.UPDATE, A.SUBMIT) if (status, a) in TRANSITIONS]
    if policy.can_review_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        actions += [a for a in REVIEW_ACTIONS if (status, a) in TRANSITIONS and not (a == A.EXTEND and app.extended)]
    return actions


async def transition(
    session: AsyncSession,
    app: Application,
    *,
    actor: Actor,
    action: ApplicationAction,
    expected: ApplicationStatus,
    values: dict[str, Any],
    comment: str | None = None,
) -> None:
    """Move `app` from `expected` by `action`: one conditional UPDATE on (id, status,
    version), so a concurrent change makes it fail (INVALID_STATE with the status now)."""
    target = TRANSITIONS[(expected, action)]
    version = app.version
    result = await session.execute(
        update(Application)
        .where(Application.id == app.id, Application.status == expected, Application.version == version)
        .values(status=target, version=version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        current = await session.scalar(select(Application.status).where(Application.id == app.id))
        now_status = ApplicationStatus(current or expected)
        if now_status == expected:
            raise DomainError(ErrorCode.CONFLICT, "Заявку только что изменили: обновите её и повторите", field="action")
        raise not_allowed(now_status, action)
    await session.refresh(app)
    add_history(session, app, actor=actor, from_status=expected, action=action, comment=comment)
    audit.record(
        session,
        actor=actor,
        action="submitApplication" if action == A.SUBMIT else "reviewApplication",
        entity_type="Application",
        entity_id=app.id,
        school_id=app.school_id,
        before={"status": expected.value},
        after={"status": target.value, "action": action.value, "comment": comment, **jsonable(values)},
    )
    assert app.school_id is not None  # noqa: S101 - a submitted application has its school
    for on_school in (False, True):
        queue_event(
            session,
            ApplicationStatusChanged(
                application_id=app.id,
                school_id=app.school_id,
                applicant_id=app.applicant_id,
                status=target.value,
                on_school=on_school,
            ),
        )


def add_history(
    session: AsyncSession,
    app: Application,
    *,
    actor: Actor,
    from_status: ApplicationStatus | None,
    action: ApplicationAction,
    comment: str | None = None,
) -> None:
    session.add(
        ApplicationEvent(
            application_id=app.id,
            from_status=from_status,
            to_status=app.status,
            action=action,
            actor_id=None if actor.is_system else actor.user_id,
            comment=comment,
        )
    )


def snapshot(app: Application) -> dict[str, Any]:
    return jsonable(
        {
            "status": app.status,
            "schoolId": app.school_id,
            "classId": app.class_id,
            "child": " ".join(p for p in (app.child_last_name, app.child_first_name, app.child_middle_name) if p),
            "birthDate": app.child_birth_date,
        }
    )


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dt.date | dt.datetime):
            out[key] = value.isoformat()
        elif isinstance(value, str):
            out[key] = str(value)
        else:
            out[key] = value
    return out
