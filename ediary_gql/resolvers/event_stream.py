"""The events query (services/event_stream.py reads and pages the log): every event of a
page is re-checked with the rule of the subscription that would have delivered it — its
feed, built for the event's ids, asked `may_follow` and then `read`, as `follow` asks them
for a live event (resolvers/streams.py). An event that fails is left out.

The checks of a page run side by side, so what they read goes through the request's
loaders in a few batches, whatever the number of events; `may_follow` is asked once per
feed (one child, class, school, application, thread or ticket) and page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.messages import Announcement
from ediary_gql.errors import DomainError
from ediary_gql.events.log import LoggedEvent
from ediary_gql.events.types import (
    AnnouncementChanged,
    ApplicationStatusChanged,
    AttendanceChanged,
    FeedbackTicketChanged,
    GradeChanged,
    NotificationCreated,
    ThreadMessage,
)
from ediary_gql.resolvers import accounts, announcements, applications, attendance, feedback, grades, messages
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import announcement_audience as audience
from ediary_gql.services import event_stream as service


async def events(
    ctx: Context, *, after: str | None, first: int, types: Collection[service.EventType] | None
) -> service.EventPage:
    actor = policy.require_actor(ctx.actor)
    return await service.read_page(
        ctx.session_factory,
        ctx.read_session_factory,
        actor=actor,
        after=after,
        first=first,
        types=types,
        keep=_Checks(ctx).keep,
    )


def _id(event: dict[str, Any], key: str) -> int | None:
    value = event.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Checks:
    """The per-event checks of one page."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._feeds: dict[Hashable, tuple[Feed[Any] | None, asyncio.Task[bool]]] = {}
        self._reader: asyncio.Task[policy.AnnouncementReader] | None = None

    async def keep(self, batch: Sequence[LoggedEvent]) -> list[bool]:
        return list(await asyncio.gather(*(self._allowed(logged) for logged in batch)))

    async def _allowed(self, logged: LoggedEvent) -> bool:
        heard = Heard.of(logged)
        found = self._feed_of(logged.kind, heard.event)
        if found is None:
            return False
        feed = await self._admitted(*found)
        if feed is None or logged.channel not in feed.channels:
            return False
        if logged.kind == AttendanceChanged.kind:
            return await self._lesson_exists(heard.event)
        if logged.kind == AnnouncementChanged.kind:
            return await self._announcement_addressed(heard.event)
        return await feed.read(self._ctx, heard) is not None

    def _feed_of(self, kind: str, event: dict[str, Any]) -> tuple[Hashable, Callable[[], Feed[Any]]] | None:
        """The feed of the subscription that would send this event (with the key it is
        asked `may_follow` once per page by); None for a malformed event."""
        ctx = self._ctx
        match kind:
            case GradeChanged.kind:  # gradeEvents(childId)
                child = _id(event, "child_id")
                return None if child is None else (("grade", child), lambda: grades.grade_feed(child_id=child))
            case AttendanceChanged.kind:  # attendanceEvents(schoolId) for the school's copy, else (classId)
                on_school = bool(event.get("on_school"))
                place = _id(event, "school_id" if on_school else "class_id")
                if place is None:
                    return None
                if on_school:
                    return ("attendance.school", place), lambda: attendance.events_feed(class_id=None, school_id=place)
                return ("attendance.class", place), lambda: attendance.events_feed(class_id=place, school_id=None)
            case ApplicationStatusChanged.kind:  # applicationStatusChanged, of the admin's schools or (applicationId)
                one = None if event.get("on_school") else _id(event, "application_id")
                if one is None and not event.get("on_school"):
                    return None
                return ("application", one), lambda: applications.status_feed(ctx, application_id=one)
            case NotificationCreated.kind:  # notificationReceived
                return ("notification",), lambda: accounts.notification_received(ctx)
            case ThreadMessage.kind:  # threadEvents(threadId)
                thread = _id(event, "thread_id")
                return None if thread is None else (("thread", thread), lambda: messages.thread_feed(thread_id=thread))
            case AnnouncementChanged.kind:  # announcementEvents(schoolId)
                school = _id(event, "school_id")
                if school is None:
                    return None
                return ("announcement", school), lambda: announcements.events_feed(ctx, school_id=school)
            case FeedbackTicketChanged.kind:
                # feedbackEvents(ticketId): whoever may read the ticket (its author, operators,
                # the school's admins); an operator's or admin's queue feed admits no more than that
                ticket = _id(event, "ticket_id")
                if ticket is None:
                    return None
                return ("feedback", ticket), lambda: feedback.ticket_feed(ctx, ticket_id=ticket)
        return None

    async def _admitted(self, key: Hashable, make: Callable[[], Feed[Any]]) -> Feed[Any] | None:
        """The feed `make()` if its `may_follow` admits the viewer (asked once
        per key and page); None if not, or if the feed refuses to be made (a DomainError:
        e.g. the school queue asked for by someone who is no school's admin)."""
        found = self._feeds.get(key)
        if found is None:
            try:
                made: Feed[Any] | None = make()
            except DomainError:
                made = None
            found = self._feeds[key] = (made, asyncio.ensure_future(self._may_follow(made)))
        feed, admitted = found
        return feed if await admitted else None

    async def _may_follow(self, feed: Feed[Any] | None) -> bool:
        if feed is None:
            return False
        try:
            return await feed.may_follow(self._ctx)
        except DomainError:  # refused outright: the same as not admitted
            return False

    async def _lesson_exists(self, event: dict[str, Any]) -> bool:
        """attendanceEvents' `read` sends the lesson with all its marks, or nothing once the
        lesson is gone: its rule is all in `may_follow`. The lesson is looked up through the
        request's loader (the feed's read, shared between subscribers, is one per lesson)."""
        lesson = _id(event, "lesson_id")
        return lesson is not None and await self._ctx.loaders.by_id(Lesson).load(lesson) is not None

    async def _announcement_addressed(self, event: dict[str, Any]) -> bool:
        """announcementEvents' `read`: the announcement, if it is addressed to the viewer
        (withdrawn or not), by the same policy rule on the same facts, read through the
        request's loaders (the feed's read opens a session per event)."""
        changed = _id(event, "announcement_id")
        if changed is None or not isinstance(event.get("action"), str):
            return False
        row = await self._ctx.loaders.by_id(Announcement).load(changed)
        if row is None:
            return False
        class_ids = await self._ctx.loaders.grouped(audience.classes_of).load(row.id)
        if self._reader is None:
            self._reader = asyncio.ensure_future(self._reader_facts())
        reader = await self._reader
        return policy.is_announcement_addressed(self._ctx.actor, audience.facts(row, class_ids), reader)

    async def _reader_facts(self) -> policy.AnnouncementReader:
        actor = policy.require_actor(self._ctx.actor)
        async with self._ctx.read_session_factory() as session:
            return await audience.reader_facts(session, actor)
