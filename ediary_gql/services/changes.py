"""The change feed: every create, update and delete of a school's records, in commit order.

Services say what they changed (`record`): one RecordChanged event per record, queued on
the transaction, so it is in the event log if and only if the change committed, and the
log's relay gives it its position in commit order (events/log.py). The feed is the log
read through the school's change channels (one per record type): a page after a cursor
(`read_changes`, the `changes` query), the same live (`changeEvents`), and the webhooks'
deliveries (services/webhooks). A change names the record by type and ID only; what the
record holds is read as ever (node(id:)), by the rules of reading it.

Recorded: lessons (created, moved, cancelled, any field changed), grades (entered,
corrected, deleted), attendance marks (made, changed), homework (given), enrolments
(started, ended, moved to another class), by hand, by a timetable, an import or a sync.

A cursor stays good as long as the log keeps the events after it (EVENT_RETENTION_DAYS);
one older is refused with CURSOR_EXPIRED, and the client reads its records afresh."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db import replicas
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.events import channels, cursors
from ediary_gql.events import log as event_log
from ediary_gql.events.log import LoggedEvent
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ChangesCommitted, RecordChanged
from ediary_gql.services import event_stream

DEFAULT_FIRST = 100
MAX_FIRST = event_stream.MAX_FIRST  # as the events query's pages
_RECORDED = "ediary.changes_recorded"
REFUSED = "Изменения школы видят её администраторы и её интеграции с разрешением events:read"


class ChangeType(enum.StrEnum):
    """The kinds of record the feed tells of."""

    LESSON = "LESSON"
    GRADE = "GRADE"
    ATTENDANCE = "ATTENDANCE"
    HOMEWORK = "HOMEWORK"
    ENROLLMENT = "ENROLLMENT"


class ChangeAction(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


# the Node type of each kind of record (its global ID's type)
NODE_TYPES: Mapping[ChangeType, str] = {
    ChangeType.LESSON: "Lesson",
    ChangeType.GRADE: "Grade",
    ChangeType.ATTENDANCE: "Attendance",
    ChangeType.HOMEWORK: "Homework",
    ChangeType.ENROLLMENT: "Enrollment",
}


def record(
    session: AsyncSession, *, school_id: int, type: ChangeType, ids: Iterable[int], action: ChangeAction
) -> None:
    """Tell the feed that these records of the school changed, if this transaction commits
    (the same record and action twice in one transaction are told once)."""
    told: set[tuple[int, str, int, str]] = session.info.setdefault(_RECORDED, set())
    for record_id in ids:
        key = (school_id, type.value, record_id, action.value)
        if key in told:
            continue
        if not told:
            queue_event(session, ChangesCommitted())  # wakes the webhook senders (services/webhooks)
        told.add(key)
        queue_event(
            session, RecordChanged(school_id=school_id, type=type.value, record_id=record_id, action=action.value)
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One change as the feed tells it."""

    position: int
    school_id: int
    type: ChangeType
    action: ChangeAction
    record_id: int
    occurred_at: dt.datetime

    @property
    def cursor(self) -> str:
        return cursors.encode(self.position)

    @property
    def event_id(self) -> str:
        """Its stable ID (its place in the log): the webhooks' X-Ediary-Event-Id."""
        return str(self.position)

    @property
    def event_type(self) -> str:
        """As a webhook names it: `grade.created`, `lesson.updated`, …"""
        return f"{self.type.value.lower()}.{self.action.value.lower()}"

    @property
    def node_type(self) -> str:
        return NODE_TYPES[self.type]


@dataclasses.dataclass(frozen=True, slots=True)
class ChangePage:
    changes: list[Change]
    cursor: str  # resume from here
    has_more: bool


def change_of(logged: LoggedEvent) -> Change | None:
    """The feed's view of a logged RecordChanged; None for another kind or a malformed one."""
    return change_from(logged.position, logged.kind, logged.payload, logged.created_at)


def change_from(position: int, kind: str, payload: Mapping[str, Any], occurred_at: dt.datetime) -> Change | None:
    """`change_of` for an event as a stream hears it (its kind, payload and log time)."""
    if kind != RecordChanged.kind:
        return None
    school, record_id = payload.get("school_id"), payload.get("record_id")
    try:
        type_, action = ChangeType(str(payload.get("type"))), ChangeAction(str(payload.get("action")))
    except ValueError:
        return None
    if not isinstance(school, int) or not isinstance(record_id, int):
        return None
    return Change(position, school, type_, action, record_id, occurred_at)


def channels_of(school_id: int, types: Collection[ChangeType] | None) -> list[str]:
    """The school's change channels of these types (all, for None)."""
    return sorted(channels.school_changes(school_id, t.value) for t in ChangeType if types is None or t in types)


def feed_school(actor: Actor, school_id: int | None) -> int:
    """The school whose feed is read (the one named, else the actor's own, see
    `policy.changes_school`), once the actor may read it (FORBIDDEN if not)."""
    school = school_id if school_id is not None else policy.changes_school(actor)
    if school is None:
        raise DomainError(ErrorCode.REQUIRED, "Укажите школу", field="schoolId")
    if not policy.can_read_changes(actor, school):
        raise forbidden(REFUSED)
    return school


async def read_changes(
    session_factory: async_sessionmaker[AsyncSession],
    read_session_factory: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    school_id: int | None,
    after: str | None,
    first: int,
    types: Sequence[ChangeType] | None,
) -> ChangePage:
    """A page of the school's changes after `after` (no cursor: from the oldest kept),
    oldest first, at most `first` (1…MAX_FIRST). The cursor given back is where the read
    got to: the last change's when more follow, else the log's end as it was when the page
    was read (so a client polling a quiet school moves on past other schools' events)."""
    # read up to the primary's head: a replica behind it would end the page early and
    # hand out a cursor past events it has not replayed yet (the read replicas' routing)
    with replicas.on_primary():
        policy.require_confirmed(actor)
        school = feed_school(actor, school_id)
        start = event_stream.check_args(after=after, first=first)
        head = await event_log.head(session_factory)  # places what waits; read up to it, no further
        if start is not None and not await event_log.covers(read_session_factory, start, end=head):
            raise cursors.expired()
        position = start or 0
        batch = await event_log.read_after(
            read_session_factory,
            after=position,
            limit=first + 1,
            channels=channels_of(school, types),
            up_to=head,
            place_first=False,
        )
        found = [change for logged in batch[:first] if (change := change_of(logged)) is not None]
        if len(batch) > first:
            return ChangePage(found, cursors.encode(batch[first - 1].position), True)
        return ChangePage(found, cursors.encode(max(position, head)), False)
