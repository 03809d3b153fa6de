"""The events query: the live streams' HTTP twin, for clients that poll.

A page is read from the event log (events/log.py) in position order, after the client's
cursor, through the channels the viewer may read at all (`policy.event_channels`, from
the actor's facts and a few of their rows: `reader_facts`). Every event read is then
re-checked by the caller's `keep` (the matching subscription's own rule, which lives with
the feeds in resolvers/), and one copy of each change is kept (`is_shown_copy`).

Paging does not starve: when checks drop events the read goes on, up to `SCAN_FACTOR`
× `first` rows; `has_more` says whether anything is left after
the page, and `cursor` is where to resume."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db import replicas
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.feedback import FeedbackTicket
from ediary_gql.db.models.messages import ThreadParticipant
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.events import channels, cursors
from ediary_gql.events import log as event_log
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
from ediary_gql.services import diary_facts

DEFAULT_FIRST = 50
MAX_FIRST = 200
SCAN_FACTOR = 10  # rows read at most per page, as a multiple of `first`


class EventType(enum.StrEnum):
    """The kinds of event a client sees (session and delivery events are internal)."""

    GRADE = "GRADE"
    ATTENDANCE = "ATTENDANCE"
    APPLICATION = "APPLICATION"
    NOTIFICATION = "NOTIFICATION"
    MESSAGE = "MESSAGE"
    ANNOUNCEMENT = "ANNOUNCEMENT"
    FEEDBACK = "FEEDBACK"


KIND_OF: Mapping[EventType, str] = {
    EventType.GRADE: GradeChanged.kind,
    EventType.ATTENDANCE: AttendanceChanged.kind,
    EventType.APPLICATION: ApplicationStatusChanged.kind,
    EventType.NOTIFICATION: NotificationCreated.kind,
    EventType.MESSAGE: ThreadMessage.kind,
    EventType.ANNOUNCEMENT: AnnouncementChanged.kind,
    EventType.FEEDBACK: FeedbackTicketChanged.kind,
}
TYPE_OF: Mapping[str, EventType] = {kind: type_ for type_, kind in KIND_OF.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class StreamItem:
    """One event as a client sees it: what happened (`action`, where the kind has one)
    to which entity (`subject_type`, `subject_pk`: a Node's type name and row id)."""

    position: int
    type: EventType
    action: str | None
    occurred_at: dt.datetime
    subject_type: str
    subject_pk: int

    @property
    def cursor(self) -> str:
        return cursors.encode(self.position)


@dataclasses.dataclass(frozen=True, slots=True)
class EventPage:
    events: list[StreamItem]
    cursor: str  # resume from here
    has_more: bool


# Asked for a batch of events read (each already one shown copy of its change): whether
# the viewer may see each, by the matching subscription's rule, in the order given.
Keep = Callable[[Sequence[LoggedEvent]], Awaitable[Sequence[bool]]]


def _int(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


def item_of(logged: LoggedEvent) -> StreamItem | None:
    """The client's view of a logged event; None for an internal kind or a malformed payload."""
    type_ = TYPE_OF.get(logged.kind)
    if type_ is None:
        return None
    p = logged.payload
    subject: tuple[str, int | None]
    action: str | None = None
    match type_:
        case EventType.GRADE:
            subject, action = ("Grade", _int(p, "grade_id")), _str(p, "action")
        case EventType.ATTENDANCE:
            subject = ("Lesson", _int(p, "lesson_id"))
        case EventType.APPLICATION:
            subject, action = ("Application", _int(p, "application_id")), _str(p, "status")
        case EventType.NOTIFICATION:
            subject = ("Notification", _int(p, "notification_id"))
        case EventType.MESSAGE:
            message_id = _int(p, "message_id")
            subject = ("Message", message_id) if message_id is not None else ("Thread", _int(p, "thread_id"))
            action = _str(p, "action")
        case EventType.ANNOUNCEMENT:
            subject, action = ("Announcement", _int(p, "announcement_id")), _str(p, "action")
        case EventType.FEEDBACK:
            subject, action = ("FeedbackTicket", _int(p, "ticket_id")), _str(p, "action")
    type_name, pk = subject
    if pk is None:
        return None
    return StreamItem(logged.position, type_, action, logged.created_at, type_name, pk)


def is_shown_copy(logged: LoggedEvent, readable: Collection[str]) -> bool:
    """Each change is shown once. The copy rule, for the changes published twice:

    - attendance and applications go out on the class's (application's) channel and again
      on the school's (`on_school`): a viewer who reads the school's channel is shown the
      school's copy; anyone else the class's (application's);
    - a new message goes out on the thread's channel and once per participant on their own
      messages channel (`for_user`): the thread's copy is shown (it also carries reads and
      departures), never a per-participant one."""
    p = logged.payload
    if logged.kind == ThreadMessage.kind:
        return p.get("for_user") is None
    if logged.kind in (AttendanceChanged.kind, ApplicationStatusChanged.kind):
        if p.get("on_school"):
            return True
        school = _int(p, "school_id")
        if school is None:
            return True
        whole = (
            channels.school_attendance(school)
            if logged.kind == AttendanceChanged.kind
            else channels.school_applications(school)
        )
        return whole not in readable
    return True


async def reader_facts(session: AsyncSession, actor: Actor, kinds: Collection[str]) -> policy.EventReader:
    """The viewer's row facts `policy.event_channels` decides on, for the kinds asked:
    one statement per kind of fact at most (none for what is not asked)."""
    me = actor.user_id
    applications: frozenset[tuple[int, int | None]] = frozenset()
    if ApplicationStatusChanged.kind in kinds:
        rows = await session.execute(
            select(Application.id, Application.school_id).where(Application.applicant_id == me)
        )
        applications = frozenset((a, s) for a, s in rows.all())
    threads: frozenset[int] = frozenset()
    if ThreadMessage.kind in kinds:
        found = await session.scalars(
            select(ThreadParticipant.thread_id).where(
                ThreadParticipant.user_id == me, ThreadParticipant.left_at.is_(None)
            )
        )
        threads = frozenset(found.all())
    taught: frozenset[tuple[int, int]] = frozenset()
    teaching_schools = actor.schools_with(StaffRole.TEACHER)
    if AttendanceChanged.kind in kinds and teaching_schools:
        classes = await session.execute(
            select(SchoolClass.id, SchoolClass.school_id)
            .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
            .where(TeachingAssignment.teacher_id == me, SchoolClass.school_id.in_(teaching_schools))
            .distinct()
        )
        taught = frozenset((c, s) for c, s in classes.all())
    family: frozenset[int] = frozenset()
    children = set(actor.guardian_of) | ({actor.student_child_id} if actor.student_child_id is not None else set())
    if AnnouncementChanged.kind in kinds and children:
        family = frozenset(
            school for _, (_, school) in await diary_facts.current_classes_of_children(session, children)
        )
    wrote = False
    if FeedbackTicketChanged.kind in kinds and not actor.is_operator:
        wrote = bool(await session.scalar(select(exists().where(FeedbackTicket.author_id == me))))
    return policy.EventReader(
        applications=applications, threads=threads, taught_classes=taught, family_schools=family, wrote_feedback=wrote
    )


def check_args(*, after: str | None, first: int) -> int | None:
    """The position after which to read (None: from the oldest kept); INVALID at `after`
    for a cursor we did not give out, at `first` for a page size out of 1…MAX_FIRST."""
    errors = ErrorCollector()
    if not 1 <= first <= MAX_FIRST:
        errors.add("first", ErrorCode.INVALID, f"Размер страницы: от 1 до {MAX_FIRST}")
    position = None if after is None else errors.check(lambda: cursors.decode(after, field="after"))
    errors.raise_if_any()
    return position


async def read_page(
    session_factory: async_sessionmaker[AsyncSession],
    read_session_factory: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    after: str | None,
    first: int,
    types: Collection[EventType] | None,
    keep: Keep,
) -> EventPage:
    """One page of the viewer's events after `after`, oldest first.

    The cursor given back: the last event's; with no event, where the read got to — the
    log's end as it was when the page was read (`after` itself when nothing came since),
    or, if the scan budget ran out first, the last position read (so a client whose
    events are rare moves on instead of reading the same rows again)."""
    # read up to the primary's head: a replica behind it would end the page early and
    # hand out a cursor past events it has not replayed yet (the read replicas' routing)
    with replicas.on_primary():
        start = check_args(after=after, first=first)
        head = await event_log.head(session_factory)  # places what waits; read up to it, no further
        if start is not None and not await event_log.covers(read_session_factory, start, end=head):
            raise cursors.expired()
        position = start or 0
        kinds = [KIND_OF[t] for t in EventType if types is None or t in types]
        async with read_session_factory() as session:
            readable_by_kind = policy.event_channels(actor, await reader_facts(session, actor, kinds))
        readable = frozenset(name for kind in kinds for name in readable_by_kind.get(kind, ()))
        shown: list[StreamItem] = []
        budget = SCAN_FACTOR * first
        batch_size = first + 1
        exhausted = not readable or position >= head
        while not exhausted and len(shown) <= first and budget > 0:
            limit = min(batch_size, budget)
            batch = await event_log.read_after(
                read_session_factory,
                after=position,
                limit=limit,
                channels=sorted(readable),
                up_to=head,
                place_first=False,
            )
            budget -= len(batch)
            batch_size *= 2
            exhausted = len(batch) < limit or (bool(batch) and batch[-1].position >= head)
            if batch:
                position = batch[-1].position
            candidates = [
                (logged, item) for logged in batch if is_shown_copy(logged, readable) and (item := item_of(logged))
            ]
            allowed = await keep([logged for logged, _ in candidates]) if candidates else []
            shown += [item for (_, item), ok in zip(candidates, allowed, strict=True) if ok]
        if shown:
            page = shown[:first]
            # more after the page: an event found beyond it, or rows not read yet
            return EventPage(page, page[-1].cursor, len(shown) > first or not exhausted)
        return EventPage([], cursors.encode(head if exhausted else position), not exhausted)
