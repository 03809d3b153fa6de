"""Reading applications: one for whoever may see it, the applicant's own, the review
queue of the schools the actor reviews, and the batches the per-request loaders ask for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application, ApplicationAttachment, ApplicationEvent
from ediary_gql.db.models.enums import ApplicationStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services.applications.deadlines import overdue_condition
from ediary_gql.services.applications.form import clean_text
from ediary_gql.services.applications.status import S


async def get_visible(session: AsyncSession, actor: Actor, application_id: int, *, lock: bool = False) -> Application:
    stmt = select(Application).where(Application.id == application_id)
    if lock:
        stmt = stmt.with_for_update()
    app = (await session.scalars(stmt)).first()
    if app is None or not policy.can_view_application(actor, applicant_id=app.applicant_id, school_id=app.school_id):
        raise DomainError(ErrorCode.NOT_FOUND, "Заявка не найдена", field="applicationId")
    return app


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: ApplicationStatus | None = None
    overdue: bool | None = None
    query: str | None = None
    school_id: int | None = None


def own_applications_query(actor: Actor) -> Select[Application]:
    return select(Application).where(Application.applicant_id == actor.user_id)


async def queue_query(
    session: AsyncSession, *, actor: Actor, flt: QueueFilter, now: dt.datetime | None = None
) -> Select[Application]:
    """Submitted applications of the schools the actor reviews (operators: all), filtered;
    drafts stay the applicant's own. Ordered by the caller: oldest due first."""
    scope = policy.application_queue_scope(actor)
    stmt = select(Application).where(Application.status != S.DRAFT)
    if scope is not None:
        if flt.school_id is not None and flt.school_id not in scope:
            return stmt.where(false())
        stmt = stmt.where(Application.school_id.in_(sorted(scope)))
    if flt.school_id is not None:
        stmt = stmt.where(Application.school_id == flt.school_id)
    if flt.status is not None:
        stmt = stmt.where(Application.status == flt.status)
    if flt.overdue is not None:
        cond = await overdue_condition(session, now or utcnow())
        stmt = stmt.where(cond if flt.overdue else ~cond)
    query = clean_text(flt.query)
    if query:
        name = query[:1].upper() + query[1:].lower()
        stmt = stmt.where(
            or_(Application.number == query.upper(), Application.child_last_name.like(_like_prefix(name), escape="\\"))
        )
    return stmt


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def history_of(session: AsyncSession, application_ids: list[int]) -> list[tuple[int, ApplicationEvent]]:
    rows = await session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id.in_(application_ids))
        .order_by(ApplicationEvent.application_id, ApplicationEvent.id)
    )
    return [(row.application_id, row) for row in rows]


async def attachments_of(session: AsyncSession, application_ids: list[int]) -> list[tuple[int, ApplicationAttachment]]:
    rows = await session.scalars(
        select(ApplicationAttachment)
        .where(ApplicationAttachment.application_id.in_(application_ids))
        .order_by(ApplicationAttachment.application_id, ApplicationAttachment.id)
    )
    return [(row.application_id, row) for row in rows]
