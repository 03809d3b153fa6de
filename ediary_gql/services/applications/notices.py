"""Notices: the applicant hears of each step, the school's admins of new applications
and, daily, of those past their due date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.enums import ApplicationAction, ApplicationStatus, NotificationKind
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.services import notifications
from ediary_gql.services.applications.deadlines import is_overdue
from ediary_gql.services.applications.status import WITH_SCHOOL, A, S

_APPLICANT_TEXTS = {
    S.SUBMITTED: ("Заявка подана", "Заявка {number} подана. Срок рассмотрения — до {due}."),
    S.ACCEPTED: ("Заявка принята", "Заявка {number} принята школой к рассмотрению."),
    S.IN_REVIEW: ("Заявка на проверке", "Школа проверяет сведения по заявке {number}."),
    S.NEEDS_CORRECTION: ("Заявку нужно исправить", "Заявка {number} возвращена на исправление: {comment}"),
    S.APPROVED: ("Заявка одобрена", "Заявка {number} одобрена: дневник ребёнка доступен в разделе «Мои дети»."),
    S.REJECTED: ("Заявка отклонена", "Заявка {number} отклонена. Причина: {comment}"),
}


async def notify_applicant(
    session: AsyncSession, app: Application, *, action: ApplicationAction, comment: str | None = None
) -> None:
    applicant = await session.get_one(User, app.applicant_id)
    status = ApplicationStatus(app.status)
    due = app.due_on.strftime("%d.%m.%Y") if app.due_on else ""
    if action == A.EXTEND:
        title, body = "Срок рассмотрения продлён", f"Срок рассмотрения заявки {app.number} продлён до {due}."
    else:
        title, template = _APPLICANT_TEXTS[status]
        body = template.format(number=app.number, due=due, comment=comment or app.rejection_reason or "")
    await notifications.notify(
        session,
        user=applicant,
        kind=NotificationKind.APPLICATION_STATUS,
        title=title,
        body=body,
        payload={"applicationId": app.id, "number": app.number, "status": status.value},
    )


async def notify_admins_of_new(session: AsyncSession, app: Application, school: School, *, resubmitted: bool) -> None:
    title = "Исправленная заявка" if resubmitted else "Новая заявка на доступ к дневнику"
    due = app.due_on.strftime("%d.%m.%Y") if app.due_on else ""
    verb = "исправлена и подана снова" if resubmitted else "подана"
    for admin in await notifications.school_admins(session, school.id):
        if admin.id == app.applicant_id:
            continue
        await notifications.notify(
            session,
            user=admin,
            kind=NotificationKind.APPLICATION_STATUS,
            title=title,
            body=f"Заявка {app.number} {verb}; рассмотреть до {due}.",
            payload={"applicationId": app.id, "number": app.number, "status": app.status.value},
        )


async def notify_overdue(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Tell each school's admins which of its applications are past their due date (a
    daily job: `ediary-gql applications remind-overdue`). Returns the notices sent."""
    now = now or utcnow()
    rows = (
        await session.execute(
            select(Application, School)
            .join(School, School.id == Application.school_id)
            .where(Application.status.in_(WITH_SCHOOL), Application.due_on.is_not(None))
            .order_by(Application.school_id, Application.due_on, Application.id)
        )
    ).all()
    overdue: dict[int, list[Application]] = {}
    for app, school in rows:
        if is_overdue(app, school, now):
            overdue.setdefault(school.id, []).append(app)
    sent = 0
    for school_id, apps in overdue.items():
        numbers = ", ".join(f"{a.number} (срок {a.due_on:%d.%m.%Y})" for a in apps[:20])
        more = f" и ещё {len(apps) - 20}" if len(apps) > 20 else ""
        for admin in await notifications.school_admins(session, school_id):
            await notifications.notify(
                session,
                user=admin,
                kind=NotificationKind.APPLICATION_STATUS,
                title="Просроченные заявки",
                body=f"Срок рассмотрения истёк у заявок: {numbers}{more}.",
                payload={"schoolId": school_id, "applicationIds": [a.id for a in apps]},
            )
            sent += 1
    return sent
