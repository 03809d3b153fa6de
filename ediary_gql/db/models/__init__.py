"""Every model, so that importing this package registers the whole metadata."""

from __future__ import annotations

from ediary_gql.db.models.applications import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    ApplicationNumberCounter,
)
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.calendar import (
    AcademicYear,
    CalendarOverride,
    Holiday,
    Period,
)
from ediary_gql.db.models.children import Child, ChildTransfer, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.event_log import EventLogHead, EventRecord
from ediary_gql.db.models.feedback import (
    FeedbackAttachment,
    FeedbackNumberCounter,
    FeedbackTicket,
)
from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.db.models.grades import ControlType, Grade, GradeRevision
from ediary_gql.db.models.homework import (
    Homework,
    HomeworkAttachment,
    HomeworkCompletion,
)
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from ediary_gql.db.models.messages import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementClass,
    Message,
    MessageAttachment,
    Thread,
    ThreadParticipant,
)
from ediary_gql.db.models.notifications import (
    Notification,
    NotificationDelivery,
    OutboxMessage,
)
from ediary_gql.db.models.reminders import SentReminder
from ediary_gql.db.models.reports import Report
from ediary_gql.db.models.school_setup import RosterLink, TeacherInvitation
from ediary_gql.db.models.schools import School, StaffBinding, StaffMembership
from ediary_gql.db.models.users import AuthSession, RateLimitHit, SignInFailure, User, VerificationCode

__all__ = [
    "AcademicYear",
    "Announcement",
    "AnnouncementAttachment",
    "AnnouncementClass",
    "Application",
    "ApplicationAttachment",
    "ApplicationEvent",
    "ApplicationNumberCounter",
    "Attachment",
    "Attendance",
    "AuditEntry",
    "AuthSession",
    "CalendarOverride",
    "Child",
    "ChildTransfer",
    "ControlType",
    "Enrollment",
    "EventLogHead",
    "EventRecord",
    "FeedbackAttachment",
    "FeedbackNumberCounter",
    "FeedbackTicket",
    "Grade",
    "GradeRevision",
    "Guardianship",
    "Holiday",
    "Homework",
    "HomeworkAttachment",
    "HomeworkCompletion",
    "Lesson",
    "Message",
    "MessageAttachment",
    "Notification",
    "NotificationDelivery",
    "OutboxMessage",
    "Period",
    "RateLimitHit",
    "Region",
    "Report",
    "RosterLink",
    "School",
    "SchoolClass",
    "SentReminder",
    "Settlement",
    "SignInFailure",
    "StaffBinding",
    "StaffMembership",
    "Subject",
    "TeacherInvitation",
    "TeachingAssignment",
    "Thread",
    "ThreadParticipant",
    "TimetableSlot",
    "TimetableTemplate",
    "User",
    "VerificationCode",
]
