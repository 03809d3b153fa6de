"""Reminders of deadlines: who is told, once only, and never in the quiet hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.enums import ApplicationStatus, FeedbackStatus, NotificationKind, ReminderKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.reminders import SentReminder
from ediary_gql.services.reminders import QuietHours, run_once
from ediary_gql.settings import Settings
from tests.factories import (
    make_application,
    make_enrolled_child,
    make_feedback_ticket,
    make_guardianship,
    make_homework,
    make_homework_completion,
    make_lesson,
    make_operator,
    make_school_admin,
    make_school_class,
    make_user,
)

MOSCOW = ZoneInfo("Europe/Moscow")


def at_moscow(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), MOSCOW).astimezone(dt.UTC)


async def _notices(services: AppServices, kind: NotificationKind) -> list[tuple[int, str, str]]:
    async with services.session_factory() as s:
        rows = await s.execute(
            select(Notification.user_id, Notification.title, Notification.body)
            .where(Notification.kind == kind)
            .order_by(Notification.user_id, Notification.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def test_quiet_hours_wrap_past_midnight() -> None:
    night = QuietHours.parse("21:00-08:00")
    assert [night.holds(dt.time(*t)) for t in ((23, 30), (7, 59), (21, 0), (8, 0), (20, 59))] == [
        True, True, True, False, False,
    ]  # fmt: skip
    lunch = QuietHours.parse("13:00-14:00")
    assert [lunch.holds(dt.time(13, 30)), lunch.holds(dt.time(14, 0))] == [True, False]
    assert not QuietHours.parse("00:00-00:00").holds(dt.time(3, 0))  # none


async def test_homework_due_tomorrow_reminds_the_child_and_guardians_once(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    today = dt.date(2026, 10, 13)
    school_class = await make_school_class(session)
    student = await make_user(session)
    child = await make_enrolled_child(session, class_id=school_class.id, user_id=student.id, first_name="Артём")
    parent = await make_user(session)
    await make_guardianship(session, parent_id=parent.id, child_id=child.id)
    done_child = await make_enrolled_child(session, class_id=school_class.id)
    done_parent = await make_user(session)
    await make_guardianship(session, parent_id=done_parent.id, child_id=done_child.id)
    lesson = await make_lesson(session, class_id=school_class.id, date=today)
    homework = await make_homework(session, lesson_id=lesson.id, text="№ 12, 14", due_on=today + dt.timedelta(days=1))
    await make_homework(session, lesson_id=lesson.id, due_on=today + dt.timedelta(days=2))  # not yet
    await make_homework_completion(session, homework_id=homework.id, child_id=done_child.id)
    await session.commit()

    # at night in the school's zone: held back
    night = await run_once(app_services.session_factory, app_services.bus, settings, now=at_moscow(today, 22))
    assert night.total == 0
    assert "Europe/Moscow" in night.held_zones
    assert await _notices(app_services, NotificationKind.HOMEWORK) == []

    # in the morning: the child and the parent, not the family that is done
    morning = await run_once(app_services.session_factory, app_services.bus, settings, now=at_moscow(today, 8, 5))
    assert morning.sent[ReminderKind.HOMEWORK_DUE] == 2
    told = await _notices(app_services, NotificationKind.HOMEWORK)
    assert sorted(user for user, *_ in told) == sorted([student.id, parent.id])
    assert {(title, body) for _, title, body in told} == {
        ("Завтра сдать домашнее задание", "Артём, «" + (await _subject(session, homework.subject_id)) + "»: № 12, 14")
    }

    # again, later that day: nothing more
    again = await run_once(app_services.session_factory, app_services.bus, settings, now=at_moscow(today, 15))
    assert again.total == 0
    assert len(await _notices(app_services, NotificationKind.HOMEWORK)) == 2


async def _subject(session: AsyncSession, subject_id: int) -> str:
    subject = await session.get(Subject, subject_id)
    assert subject is not None
    return subject.name


async def test_applications_near_their_due_date_remind_the_schools_admins(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    today = dt.date(2026, 10, 13)  # a Tuesday: the next working day is Wednesday
    school_class = await make_school_class(session)
    admin = await make_school_admin(session, school_id=school_class.school_id)
    near = await make_application(session, class_id=school_class.id, status=ApplicationStatus.SUBMITTED,
                                  due_on=today + dt.timedelta(days=1))  # fmt: skip
    await make_application(session, class_id=school_class.id, status=ApplicationStatus.IN_REVIEW,
                           due_on=today + dt.timedelta(days=5))  # fmt: skip
    await make_application(session, class_id=school_class.id, status=ApplicationStatus.APPROVED,
                           due_on=today)  # fmt: skip
    await session.commit()

    report = await run_once(app_services.session_factory, app_services.bus, settings, now=at_moscow(today, 10))
    assert report.sent[ReminderKind.APPLICATION_DUE] == 1
    ((user_id, title, body),) = await _notices(app_services, NotificationKind.APPLICATION_STATUS)
    assert (user_id, title) == (admin.id, "Срок рассмотрения заявки")
    assert body == f"№ {near.number}: срок {near.due_on:%d.%m.%Y} (завтра)"
    await run_once(app_services.session_factory, app_services.bus, settings, now=at_moscow(today, 11))
    assert len(await _notices(app_services, NotificationKind.APPLICATION_STATUS)) == 1


async def test_a_ticket_near_and_past_its_deadline_reminds_operators_once_each(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    start = at_moscow(dt.date(2026, 10, 13), 10)
    operator = await make_operator(session)
    assignee = await make_operator(session)
    ticket = await make_feedback_ticket(
        session, status=FeedbackStatus.OPEN, answer_due_at=start + dt.timedelta(hours=3), number="FB-2026-000777"
    )
    await make_feedback_ticket(session, answer_due_at=start + dt.timedelta(hours=20))  # far off
    await session.commit()

    # at night in Moscow: held back, though the deadline is near
    night = await run_once(app_services.session_factory, app_services.bus, settings, now=start - dt.timedelta(hours=12))
    assert night.total == 0
    assert "Europe/Moscow" in night.held_zones
    near = await run_once(app_services.session_factory, app_services.bus, settings, now=start)
    assert near.sent[ReminderKind.FEEDBACK_DUE] == 2  # both operators
    # the assignee takes it; after the deadline, one more reminder each
    async with app_services.session_factory() as s, s.begin():
        row = await s.get(type(ticket), ticket.id)
        assert row is not None
        row.status, row.assignee_id, row.taken_at = FeedbackStatus.IN_PROGRESS, assignee.id, start
    late = start + dt.timedelta(hours=4)
    past = await run_once(app_services.session_factory, app_services.bus, settings, now=late)
    assert past.sent[ReminderKind.FEEDBACK_OVERDUE] == 2
    await run_once(app_services.session_factory, app_services.bus, settings, now=late + dt.timedelta(minutes=5))
    told = await _notices(app_services, NotificationKind.FEEDBACK)
    assert sorted(u for u, *_ in told) == sorted([operator.id, operator.id, assignee.id, assignee.id])
    bodies = [body for user, _, body in told if user == operator.id]
    assert bodies[0] == "FB-2026-000777: «Не отображаются оценки» — ответить до 13:00 13.10.2026"
    assert bodies[1] == "FB-2026-000777: «Не отображаются оценки» — просрочено с 13:00 13.10.2026"
    async with app_services.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(SentReminder)) == 4
