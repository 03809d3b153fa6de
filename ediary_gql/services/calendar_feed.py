"""The personal calendar feed: a child's (or a teacher's) lessons and homework
due dates as an iCalendar file that calendar apps subscribe to by URL.

The URL is `/calendar/<scope>.<secret>.ics`: `scope` is `c<child id>` (a
guardian's or a student's view of that child's diary) or `t` (a teacher's own
lessons); `secret` is 32 random bytes. Only the secret's SHA-256 is kept, in
`users.feed_token`, so a leaked database does not leak working feed URLs.
One secret per user: making a feed again issues a new secret (the URLs given
before stop working), revoking clears it. The scope is checked against the
user's roles on every fetch, so losing a guardianship or a post ends the
feed too. The feed grants nothing else: it is not an access token.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.tokens import hash_secret
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import LessonStatus, StaffRole, UserStatus
from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.services import audit
from ediary_gql.services.diary import readable_children
from ediary_gql.services.sessions import load_actor
from ediary_gql.text import is_digits

# What a feed holds: from a month back to a school term ahead.
FEED_PAST = dt.timedelta(days=30)
FEED_AHEAD = dt.timedelta(days=120)
TEACHER_SCOPE = "t"
_PRODID = "-//ediary-gql//Электронный дневник//RU"


@dataclass(frozen=True, slots=True)
class FeedScope:
    child_id: int | None  # None: the teacher's own lessons

    def encode(self) -> str:
        return TEACHER_SCOPE if self.child_id is None else f"c{self.child_id}"

    @classmethod
    def decode(cls, text: str) -> FeedScope | None:
        if text == TEACHER_SCOPE:
            return cls(child_id=None)
        if text.startswith("c") and is_digits(text[1:]) and len(text) < 20:
            return cls(child_id=int(text[1:]))
        return None


def _may_use(actor: Actor, scope: FeedScope) -> bool:
    """A child's feed: the child's guardians and the student; the teacher feed: teachers."""
    if scope.child_id is None:
        return bool(actor.schools_with(StaffRole.TEACHER))
    return scope.child_id in actor.guardian_of or actor.student_child_id == scope.child_id


async def create_feed(session: AsyncSession, *, actor: Actor, child_id: int | None) -> str:
    """A new feed token for the actor (`<scope>.<secret>`); earlier feed URLs stop working."""
    policy.ensure(policy.can_manage_calendar_feed(actor), "Ленту календаря создаёт сам пользователь")
    scope = FeedScope(child_id=child_id)
    if child_id is None and not _may_use(actor, scope):
        raise DomainError(ErrorCode.REQUIRED, "Укажите ребёнка, чьё расписание нужно в календаре", field="childId")
    if not _may_use(actor, scope):
        raise forbidden("Лента календаря доступна родителям ребёнка и самому ученику")
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise forbidden()
    secret = secrets.token_urlsafe(32)
    user.feed_token = hash_secret(secret)
    audit.record(
        session,
        actor=actor,
        action="createCalendarFeed",
        entity_type="User",
        entity_id=user.id,
        after={"scope": scope.encode()},
    )
    return f"{scope.encode()}.{secret}"


async def revoke_feed(session: AsyncSession, *, actor: Actor) -> bool:
    """Clears the actor's feed secret; True if there was one."""
    policy.ensure(policy.can_manage_calendar_feed(actor), "Ленту календаря отзывает сам пользователь")
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None or user.feed_token is None:
        return False
    user.feed_token = None
    audit.record(session, actor=actor, action="revokeCalendarFeed", entity_type="User", entity_id=user.id)
    return True


async def render_feed(session: AsyncSession, *, token: str, now: dt.datetime) -> bytes | None:
    """The iCalendar file of a feed token; None for an unknown, revoked or no longer allowed one."""
    scope_text, _, secret = token.partition(".")
    scope = FeedScope.decode(scope_text)
    if scope is None or not secret or len(secret) > 100:
        return None
    user = await session.scalar(select(User).where(User.feed_token == hash_secret(secret)))
    if user is None or user.status != UserStatus.CONFIRMED:
        return None
    actor = await load_actor(
        session, user_id=user.id, session_id=None, status=user.status, is_operator=user.is_operator
    )
    if not _may_use(actor, scope):
        return None
    today = now.date()
    start, end = today - FEED_PAST, today + FEED_AHEAD
    calendar = icalendar.Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", await _calendar_name(session, scope, user))
    if scope.child_id is not None:
        if scope.child_id not in await readable_children(session, actor=actor, child_ids=[scope.child_id]):
            return None
        await _child_events(session, calendar, scope.child_id, start, end, now)
    else:
        await _teacher_events(session, calendar, user.id, start, end, now)
    _add_timezones(calendar, start, end)
    return bytes(calendar.to_ical())


def _add_timezones(calendar: icalendar.Calendar, start: dt.date, end: dt.date) -> None:
    """One VTIMEZONE per zone the events name, covering only the feed's window.

    A zone's whole history (icalendar's default, 1970–2038) misleads some readers:
    vobject (dateutil's reading of VTIMEZONE), and apps that read it the same way, put
    every Moscow lesson at +04:00, the rule of 2011–2014. Within a window of months a
    Russian zone is a single offset, and a zone with daylight saving gets just the
    changes inside it. The window is widened by a day before ("today" is UTC's, lessons
    are local) and two after (the last day's lessons must lie before its end).
    """
    for tzid in sorted(calendar.get_missing_tzids()):
        calendar.subcomponents.insert(0, _timezone(tzid, start - dt.timedelta(days=1), end + dt.timedelta(days=2)))


@functools.lru_cache(maxsize=64)
def _timezone(tzid: str, first: dt.date, last: dt.date) -> icalendar.Timezone:
    """Cached: building one takes ~20 ms (it scans the zone's transitions), and the
    window moves once a day. The component is shared between feeds and never changed."""
    return icalendar.Timezone.from_tzinfo(ZoneInfo(tzid), tzid=tzid, first_date=first, last_date=last)


async def _calendar_name(session: AsyncSession, scope: FeedScope, user: User) -> str:
    if scope.child_id is None:
        return f"Уроки — {user.full_name}"
    child = await session.get(Child, scope.child_id)
    return f"Дневник — {child.full_name}" if child is not None else "Дневник"


_LESSON_COLUMNS = (
    Lesson.id,
    Lesson.date,
    Lesson.start_time,
    Lesson.end_time,
    Lesson.room,
    Lesson.topic,
    Lesson.status,
    Lesson.updated_at,
    Subject.name,
    User.last_name,
    User.first_name,
    User.middle_name,
    School.timezone,
)


def _add_lessons(calendar: icalendar.Calendar, rows: list[tuple[object, ...]], now: dt.datetime) -> None:
    for lid, date, start, end, room, topic, status, updated, subject, last, first, middle, tz in rows:
        zone = ZoneInfo(str(tz))
        event = icalendar.Event()
        event.add("uid", f"lesson-{lid}@ediary-gql")
        event.add("dtstamp", now)
        event.add("last-modified", updated)
        event.add("dtstart", dt.datetime.combine(date, start, tzinfo=zone))  # type: ignore[arg-type]
        event.add("dtend", dt.datetime.combine(date, end, tzinfo=zone))  # type: ignore[arg-type]
        event.add("summary", str(subject))
        if room:
            event.add("location", f"Кабинет {room}")
        teacher = " ".join(str(p) for p in (last, first, middle) if p)
        event.add("description", f"Учитель: {teacher}" + (f"\nТема: {topic}" if topic else ""))
        if status == LessonStatus.CANCELLED:
            event.add("status", "CANCELLED")
        calendar.add_component(event)


def _add_homework(calendar: icalendar.Calendar, rows: list[tuple[object, ...]], now: dt.datetime) -> None:
    """Homework as all-day events on the due date: every calendar app shows those
    (VTODO is ignored by several)."""
    for hid, due, text, subject in rows:
        event = icalendar.Event()
        event.add("uid", f"homework-{hid}@ediary-gql")
        event.add("dtstamp", now)
        event.add("dtstart", due)
        event.add("dtend", due + dt.timedelta(days=1))  # type: ignore[operator]
        event.add("summary", f"Домашнее задание: {subject}")
        event.add("description", str(text))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)


async def _child_events(
    session: AsyncSession, calendar: icalendar.Calendar, child_id: int, start: dt.date, end: dt.date, now: dt.datetime
) -> None:
    enrolments = (
        await session.execute(
            select(Enrollment.class_id, Enrollment.starts_on, Enrollment.ends_on).where(
                Enrollment.child_id == child_id,
                Enrollment.starts_on <= end,
                or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= start),
            )
        )
    ).all()
    if not enrolments:
        return
    windows = [
        (Lesson.class_id == cls) & (Lesson.date >= max(start, s)) & (Lesson.date <= min(end, e or end))
        for cls, s, e in enrolments
    ]
    lessons = await session.execute(
        select(*_LESSON_COLUMNS)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
        .join(School, School.id == Lesson.school_id)
        .where(or_(*windows))
        .order_by(Lesson.date, Lesson.start_time)
    )
    _add_lessons(calendar, [tuple(r) for r in lessons.all()], now)
    homework_windows = [
        (Homework.class_id == cls) & (Homework.due_on >= max(start, s)) & (Homework.due_on <= min(end, e or end))
        for cls, s, e in enrolments
    ]
    homework = await session.execute(
        select(Homework.id, Homework.due_on, Homework.text, Subject.name)
        .join(Subject, Subject.id == Homework.subject_id)
        .where(or_(*homework_windows))
        .order_by(Homework.due_on, Homework.id)
    )
    _add_homework(calendar, [tuple(r) for r in homework.all()], now)


async def _teacher_events(
    session: AsyncSession, calendar: icalendar.Calendar, teacher_id: int, start: dt.date, end: dt.date, now: dt.datetime
) -> None:
    mine = or_(Lesson.teacher_id == teacher_id, Lesson.substitute_teacher_id == teacher_id)
    lessons = await session.execute(
        select(*_LESSON_COLUMNS, SchoolClass.level, SchoolClass.letter)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
        .join(School, School.id == Lesson.school_id)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(mine, Lesson.date.between(start, end))
        .order_by(Lesson.date, Lesson.start_time)
    )
    rows = []
    for row in lessons.all():
        *fields, level, letter = tuple(row)
        fields[8] = f"{fields[8]}, {level}{letter}"  # the summary names the class
        rows.append(tuple(fields))
    _add_lessons(calendar, rows, now)
