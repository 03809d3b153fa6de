"""Event types. An event is a small "something changed" signal, not the data:
subscribers re-read the database (the source of truth) when they hear one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ediary_gql.events import channels


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[str] = "event"

    @property
    def channel(self) -> str:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        """The event's fields, as the event log keeps them (JSON-ready)."""
        return json.loads(json.dumps(asdict(self), default=str))  # type: ignore[no-any-return]

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, **asdict(self)}, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class NotificationCreated(Event):
    kind: ClassVar[str] = "notification.created"
    user_id: int
    notification_id: int

    @property
    def channel(self) -> str:
        return channels.user_notifications(self.user_id)


@dataclass(frozen=True, slots=True)
class DeliveriesQueued(Event):
    """Deliveries are waiting to be sent: a wake-up call for the dispatchers."""

    kind: ClassVar[str] = "delivery.queued"

    @property
    def channel(self) -> str:
        return channels.deliveries()


@dataclass(frozen=True, slots=True)
class SessionRevoked(Event):
    kind: ClassVar[str] = "session.revoked"
    user_id: int
    session_id: int | None  # None: every session of the user

    @property
    def channel(self) -> str:
        return channels.user_sessions(self.user_id)


@dataclass(frozen=True, slots=True)
class ApplicationStatusChanged(Event):
    """An application changed status (or its due date); published once on the
    application's channel and once on its school's (`on_school`)."""

    kind: ClassVar[str] = "application.status_changed"
    application_id: int
    school_id: int
    applicant_id: int
    status: str
    on_school: bool = False

    @property
    def channel(self) -> str:
        if self.on_school:
            return channels.school_applications(self.school_id)
        return channels.application_status(self.application_id)


@dataclass(frozen=True, slots=True)
class GradeChanged(Event):
    """A grade was created, corrected or deleted (`action`)."""

    kind: ClassVar[str] = "grade.changed"
    grade_id: int
    child_id: int
    class_id: int
    school_id: int
    action: str

    @property
    def channel(self) -> str:
        return channels.child_grades(self.child_id)


@dataclass(frozen=True, slots=True)
class AttendanceChanged(Event):
    """A lesson's attendance marks changed; published once on the class's channel
    and once on its school's (`on_school`)."""

    kind: ClassVar[str] = "attendance.changed"
    lesson_id: int
    class_id: int
    school_id: int
    date: str  # ISO date of the lesson
    on_school: bool = False

    @property
    def channel(self) -> str:
        if self.on_school:
            return channels.school_attendance(self.school_id)
        return channels.class_attendance(self.class_id)


@dataclass(frozen=True, slots=True)
class ThreadMessage(Event):
    """Something happened in a thread (`action`: "message", "read", "left", "joined");
    published on the thread's channel, and, for a new message, once per participant
    on their own (`for_user`)."""

    kind: ClassVar[str] = "thread.message"
    thread_id: int
    action: str
    message_id: int | None = None
    user_id: int | None = None  # who read or left
    for_user: int | None = None

    @property
    def channel(self) -> str:
        if self.for_user is not None:
            return channels.user_messages(self.for_user)
        return channels.thread_messages(self.thread_id)


@dataclass(frozen=True, slots=True)
class AnnouncementChanged(Event):
    """An announcement was published, updated or withdrawn (`action`)."""

    kind: ClassVar[str] = "announcement.changed"
    announcement_id: int
    school_id: int
    action: str

    @property
    def channel(self) -> str:
        return channels.school_announcements(self.school_id)


@dataclass(frozen=True, slots=True)
class FeedbackTicketChanged(Event):
    """A feedback ticket was submitted, taken, answered, reopened or closed (`action`)."""

    kind: ClassVar[str] = "feedback.changed"
    ticket_id: int
    status: str
    action: str

    @property
    def channel(self) -> str:
        return channels.feedback_tickets()


@dataclass(frozen=True, slots=True)
class ReportChanged(Event):
    """A requested report was queued, taken up, made (READY), refused (FAILED) or its
    file deleted (EXPIRED); on its requester's channel."""

    kind: ClassVar[str] = "report.changed"
    report_id: int
    requester_id: int
    status: str

    @property
    def channel(self) -> str:
        return channels.user_reports(self.requester_id)


@dataclass(frozen=True, slots=True)
class ReportsQueued(Event):
    """Reports are waiting to be made: a wake-up call for the report workers."""

    kind: ClassVar[str] = "report.queued"

    @property
    def channel(self) -> str:
        return channels.reports_queue()


@dataclass(frozen=True, slots=True)
class RecordChanged(Event):
    """A record of a school was created, updated or deleted (`action`: CREATED, UPDATED,
    DELETED; `type`: LESSON, GRADE, … of services/changes.py): the school's change feed,
    on the school's channel for the type."""

    kind: ClassVar[str] = "record.changed"
    school_id: int
    type: str
    record_id: int
    action: str

    @property
    def channel(self) -> str:
        return channels.school_changes(self.school_id, self.type)


@dataclass(frozen=True, slots=True)
class ChangesCommitted(Event):
    """A transaction changed records of schools: a wake-up call for the webhook senders
    (once per transaction, whatever it changed)."""

    kind: ClassVar[str] = "changes.committed"

    @property
    def channel(self) -> str:
        return channels.changes_committed()


def parse(message: str) -> dict[str, Any]:
    """Decode a message; malformed ones come back as an empty dict and are skipped."""
    try:
        value = json.loads(message)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
