"""Reminders of approaching deadlines, each sent exactly once:

- homework due tomorrow (the school's zone) and not marked done → the child and their
  guardians (HOMEWORK);
- an application due within the next working day → the school's admins
  (APPLICATION_STATUS);
- a feedback ticket near its 24 hours, and again once past them → the operators and the
  operator who took it (FEEDBACK).

Exactly once: a reminder is the row (kind, target, recipient, day) of `sent_reminders`,
inserted with ON CONFLICT DO NOTHING in the same transaction as its notice. Whoever runs
the scheduler — every server process on its timer, cron through `ediary-gql reminders
run` — only the transaction whose insert lands sends; a concurrent one waits on the
unique index (PostgreSQL) or the write lock (SQLite) and then finds the row there.

Never at night: a recipient whose local time (the school's zone; Moscow for operators)
is in the quiet hours gets nothing now, and the next run after they end sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import (
    ApplicationStatus,
    FeedbackStatus,
    NotificationKind,
    ReminderKind,
    StaffRole,
    UserStatus,
)
from ediary_gql.db.models.feedback import FeedbackTicket
from ediary_gql.db.models.homework import Homework, HomeworkCompletion
from ediary_gql.db.models.reminders import SentReminder
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import Publisher, unit_of_work
from ediary_gql.services.notifications import Notice, notify_many
from ediary_gql.services.production_calendar import load_calendar
from ediary_gql.services.school_time import zone_info
from ediary_gql.settings import Settings

log = structlog.get_logger(__name__)

OPERATORS_ZONE = "Europe/Moscow"  # the portal's operators work in Moscow time
REVIEWED = (ApplicationStatus.SUBMITTED, ApplicationStatus.ACCEPTED, ApplicationStatus.IN_REVIEW)
OPEN_TICKETS = (FeedbackStatus.OPEN, FeedbackStatus.IN_PROGRESS)
LISTED_MAX = 10
INSERT_BATCH = 500


@dataclass(frozen=True)
class QuietHours:
    """Local times with no reminders, e.g. 21:00–08:00 (may wrap past midnight)."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        first, _, last = text.partition("-")
        return cls(dt.time.fromisoformat(first), dt.time.fromisoformat(last))

    def holds(self, local: dt.time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass
class RunReport:
    """What one scheduler run did: notices sent per kind, and zones held back by quiet hours."""

    sent: dict[ReminderKind, int] = field(default_factory=lambda: defaultdict(int))
    held_zones: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


@dataclass(frozen=True)
class _Due:
    """One reminder to send if nobody has: its row, and the line it adds to a notice."""

    kind: ReminderKind
    target_id: int
    user_id: int
    day: dt.date
    line: str
    payload: dict[str, Any]


class Kind(enum.Enum):
    """How each reminder kind is told (notification kind and titles: one / several)."""

    HOMEWORK = (NotificationKind.HOMEWORK, "Завтра сдать домашнее задание", "Завтра сдать домашние задания")
    APPLICATION = (NotificationKind.APPLICATION_STATUS, "Срок рассмотрения заявки", "Сроки рассмотрения заявок")
    FEEDBACK = (NotificationKind.FEEDBACK, "Обращение ждёт ответа", "Обращения ждут ответа")


_TOLD_AS = {
    ReminderKind.HOMEWORK_DUE: Kind.HOMEWORK,
    ReminderKind.APPLICATION_DUE: Kind.APPLICATION,
    ReminderKind.FEEDBACK_DUE: Kind.FEEDBACK,
    ReminderKind.FEEDBACK_OVERDUE: Kind.FEEDBACK,
}


async def run_once(
    session_factory: async_sessionmaker[AsyncSession],
    bus: Publisher,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> RunReport:
    """One run of every kind, each in its own transaction (one failing leaves the others)."""
    now = now or utcnow()
    quiet = QuietHours.parse(settings.reminder_quiet_hours)
    report = RunReport()
    lead = dt.timedelta(hours=settings.feedback_reminder_lead_hours)
    for gather in (_homework, _applications):
        async with unit_of_work(session_factory, bus) as session:
            zones = await _open_zones(session, quiet, now, report)
            await _send(session, await gather(session, zones, now), report)
    async with unit_of_work(session_factory, bus) as session:
        if quiet.holds(now.astimezone(zone_info(OPERATORS_ZONE)).time()):
            report.held_zones.add(OPERATORS_ZONE)
        else:
            await _send(session, await _feedback(session, now, lead), report)
    return report


# --- what is due ------------------------------------------------------------------


async def _open_zones(
    session: AsyncSession, quiet: QuietHours, now: dt.datetime, report: RunReport
) -> dict[dt.date, list[int]]:
    """The schools outside their quiet hours now, by their local date."""
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for school_id, zone in (await session.execute(select(School.id, School.timezone))).all():
        local = now.astimezone(zone_info(zone))
        if quiet.holds(local.time()):
            report.held_zones.add(zone)
        else:
            by_day[local.date()].append(school_id)
    return by_day


async def _homework(session: AsyncSession, zones: dict[dt.date, list[int]], now: dt.datetime) -> list[_Due]:
    due: list[_Due] = []
    for today, school_ids in zones.items():
        tomorrow = today + dt.timedelta(days=1)
        rows = (
            await session.execute(
                select(Homework, Subject.name)
                .join(SchoolClass, SchoolClass.id == Homework.class_id)
                .join(Subject, Subject.id == Homework.subject_id)
                .where(SchoolClass.school_id.in_(school_ids), Homework.due_on == tomorrow)
                .order_by(Homework.id)
            )
        ).all()
        if not rows:
            continue
        homework_ids = [hw.id for hw, _ in rows]
        done = set(
            (
                await session.execute(
                    select(HomeworkCompletion.homework_id, HomeworkCompletion.child_id).where(
                        HomeworkCompletion.homework_id.in_(homework_ids)
                    )
                )
            ).all()
        )
        enrolled = await _enrolled(session, {hw.class_id for hw, _ in rows}, tomorrow)
        child_ids = {c for ids in enrolled.values() for c in ids}
        children, guardians = await _families(session, child_ids)
        for hw, subject in rows:
            task = hw.text if len(hw.text) <= 120 else hw.text[:119] + "…"
            for child_id in enrolled.get(hw.class_id, ()):
                child = children.get(child_id)
                if child is None or (hw.id, child_id) in done:
                    continue
                recipients = [*guardians.get(child_id, ()), *([child.user_id] if child.user_id else [])]
                for user_id in dict.fromkeys(recipients):
                    due.append(
                        _Due(
                            ReminderKind.HOMEWORK_DUE,
                            hw.id,
                            user_id,
                            tomorrow,
                            f"{child.first_name}, «{subject}»: {task}",
                            {"homework_id": hw.id, "child_id": child_id, "due_on": tomorrow.isoformat()},
                        )
                    )
    return due


async def _applications(session: AsyncSession, zones: dict[dt.date, list[int]], now: dt.datetime) -> list[_Due]:
    due: list[_Due] = []
    for today, school_ids in zones.items():
        calendar = await load_calendar(session, today)
        horizon = calendar.add_working_days(today, 1)
        rows = (
            await session.execute(
                select(Application)
                .where(
                    Application.school_id.in_(school_ids),
                    Application.status.in_(REVIEWED),
                    Application.due_on.is_not(None),
                    Application.due_on <= horizon,
                )
                .order_by(Application.due_on, Application.id)
            )
        ).scalars()
        applications = list(rows)
        if not applications:
            continue
        admins = await _admins(session, {a.school_id for a in applications if a.school_id is not None})
        for app in applications:
            assert app.due_on is not None  # noqa: S101 - filtered above
            assert app.school_id is not None  # noqa: S101 - filtered above
            when = "истёк" if app.due_on < today else ("сегодня" if app.due_on == today else "завтра")
            line = f"№ {app.number}: срок {app.due_on:%d.%m.%Y} ({when})"
            for admin_id in admins.get(app.school_id, ()):
                due.append(
                    _Due(
                        ReminderKind.APPLICATION_DUE,
                        app.id,
                        admin_id,
                        app.due_on,
                        line,
                        {"application_id": app.id, "due_on": app.due_on.isoformat()},
                    )
                )
    return due


async def _feedback(session: AsyncSession, now: dt.datetime, lead: dt.timedelta) -> list[_Due]:
    tickets = list(
        (
            await session.scalars(
                select(FeedbackTicket)
                .where(FeedbackTicket.status.in_(OPEN_TICKETS), FeedbackTicket.answer_due_at <= now + lead)
                .order_by(FeedbackTicket.answer_due_at, FeedbackTicket.id)
            )
        ).all()
    )
    if not tickets:
        return []
    operators = list(
        (
            await session.scalars(
                select(User.id).where(User.is_operator.is_(True), User.status == UserStatus.CONFIRMED)
            )
        ).all()
    )
    moscow = zone_info(OPERATORS_ZONE)
    due: list[_Due] = []
    for ticket in tickets:
        deadline = ticket.answer_due_at.astimezone(moscow)
        overdue = ticket.answer_due_at <= now
        kind = ReminderKind.FEEDBACK_OVERDUE if overdue else ReminderKind.FEEDBACK_DUE
        state = "просрочено с" if overdue else "ответить до"
        line = f"{ticket.number}: «{ticket.subject}» — {state} {deadline:%H:%M %d.%m.%Y}"
        recipients = [*operators, *([ticket.assignee_id] if ticket.assignee_id else [])]
        for user_id in dict.fromkeys(recipients):
            due.append(
                _Due(
                    kind,
                    ticket.id,
                    user_id,
                    deadline.date(),
                    line,
                    {"ticket_id": ticket.id, "overdue": overdue},
                )
            )
    return due


# --- sending each once --------------------------------------------------------------


async def _send(session: AsyncSession, due: Sequence[_Due], report: RunReport) -> None:
    """Claim the reminders nobody has sent, and tell each recipient in one notice per kind."""
    if not due:
        return
    claimed = await _claim(session, due)
    fresh = [d for d in due if (d.kind, d.target_id, d.user_id, d.day) in claimed]
    if not fresh:
        return
    by_user: dict[tuple[int, Kind], list[_Due]] = defaultdict(list)
    for item in fresh:
        by_user[(item.user_id, _TOLD_AS[item.kind])].append(item)
    users = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_({u for u, _ in by_user})))).all()}
    notices: list[Notice] = []
    for (user_id, told), items in sorted(by_user.items(), key=lambda entry: (entry[0][0], entry[0][1].name)):
        user = users.get(user_id)
        if user is None:
            continue
        notification_kind, one, many = told.value
        lines = [i.line for i in items]
        listed = lines[:LISTED_MAX]
        more = len(lines) - len(listed)
        body = "\n".join(listed) + (f"\n… и ещё {more}" if more else "")
        title = one if len(items) == 1 else f"{many} ({len(items)})"
        payload = items[0].payload if len(items) == 1 else {"items": [i.payload for i in items[:LISTED_MAX]]}
        notices.append(Notice(user=user, kind=notification_kind, title=title, body=body, payload=payload))
        for item in items:
            report.sent[item.kind] += 1
    await notify_many(session, notices)


async def _claim(session: AsyncSession, due: Sequence[_Due]) -> set[tuple[ReminderKind, int, int, dt.date]]:
    """Insert the reminders' rows; those that were already there (sent by an earlier run,
    or by another process just now) come back absent."""
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"kind": d.kind, "target_id": d.target_id, "user_id": d.user_id, "day": d.day}
        for d in {(d.kind, d.target_id, d.user_id, d.day): d for d in due}.values()
    ]
    claimed: set[tuple[ReminderKind, int, int, dt.date]] = set()
    for start in range(0, len(rows), INSERT_BATCH):
        stmt = (
            insert(SentReminder)
            .values(rows[start : start + INSERT_BATCH])
            .on_conflict_do_nothing(index_elements=["kind", "target_id", "user_id", "day"])
            .returning(SentReminder.kind, SentReminder.target_id, SentReminder.user_id, SentReminder.day)
        )
        for kind, target_id, user_id, day in (await session.execute(stmt)).all():
            claimed.add((ReminderKind(kind), target_id, user_id, day))
    return claimed


# --- who -------------------------------------------------------------------------------


async def _enrolled(session: AsyncSession, class_ids: Iterable[int], day: dt.date) -> dict[int, list[int]]:
    rows = await session.execute(
        select(Enrollment.class_id, Enrollment.child_id)
        .where(
            Enrollment.class_id.in_(set(class_ids)),
            Enrollment.starts_on <= day,
            or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= day),
        )
        .order_by(Enrollment.child_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for class_id, child_id in rows.all():
        found[class_id].append(child_id)
    return found


async def _families(session: AsyncSession, child_ids: set[int]) -> tuple[dict[int, Child], dict[int, list[int]]]:
    if not child_ids:
        return {}, {}
    children = {c.id: c for c in (await session.scalars(select(Child).where(Child.id.in_(child_ids)))).all()}
    guardians: dict[int, list[int]] = defaultdict(list)
    rows = await session.execute(
        select(Guardianship.child_id, Guardianship.parent_id)
        .where(Guardianship.child_id.in_(child_ids))
        .order_by(Guardianship.parent_id)
    )
    for child_id, parent_id in rows.all():
        guardians[child_id].append(parent_id)
    return children, guardians


async def _admins(session: AsyncSession, school_ids: set[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(StaffMembership.school_id, StaffMembership.user_id)
        .where(
            StaffMembership.school_id.in_(school_ids),
            StaffMembership.role == StaffRole.SCHOOL_ADMIN,
            StaffMembership.active.is_(True),
        )
        .order_by(StaffMembership.user_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for school_id, user_id in rows.all():
        found[school_id].append(user_id)
    return found


# --- running in the server ---------------------------------------------------------------


class ReminderScheduler:
    """Runs `run_once` every `interval` seconds in the background; several processes may
    each run one (the rows of `sent_reminders` keep every reminder single)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], bus: Publisher, settings: Settings) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self._settings = settings
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="reminders")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = await run_once(self._session_factory, self._bus, self._settings)
                if report.total:
                    log.info("reminders_sent", sent={k.value: n for k, n in report.sent.items()})
            except Exception:  # the next run tries again; a reminder not claimed is not lost
                log.exception("reminders_run_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._settings.reminders_interval_seconds)
