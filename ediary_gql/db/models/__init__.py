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
from ediary_gql.db.models.identities import ConsentRecord, OidcLogin, UserIdentity
from ediary_gql.db.models.integrations import Integration, IntegrationSecret, Webhook, WebhookDelivery
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
from ediary_gql.db.models.personal_data import DataRequest, SensitiveRead
from ediary_gql.db.models.reminders import SentReminder
from ediary_gql.db.models.reports import Report, ReportRemark, ReportTemplate
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
    "ConsentRecord",
    "ControlType",
    "DataRequest",
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
    "Integration",
    "IntegrationSecret",
    "Lesson",
    "Message",
    "MessageAttachment",
    "Notification",
    "NotificationDelivery",
    "OidcLogin",
    "OutboxMessage",
    "Period",
    "RateLimitHit",
    "Region",
    "Report",
    "ReportRemark",
    "ReportTemplate",
    "RosterLink",
    "School",
    "SchoolClass",
    "SensitiveRead",
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
    "UserIdentity",
    "VerificationCode",
    "Webhook",
    "WebhookDelivery",
]
