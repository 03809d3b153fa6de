"""Enumerations shared by the models, the services and the GraphQL schema."""

from __future__ import annotations

import enum


class UserStatus(enum.StrEnum):
    TEMPORARY = "TEMPORARY"
    CONFIRMED = "CONFIRMED"
    BLOCKED = "BLOCKED"


class StaffRole(enum.StrEnum):
    TEACHER = "TEACHER"
    SCHOOL_ADMIN = "SCHOOL_ADMIN"
    INTEGRATOR = "INTEGRATOR"


class Channel(enum.StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class NotificationKind(enum.StrEnum):
    SYSTEM = "SYSTEM"
    SECURITY = "SECURITY"
    VERIFICATION_CODE = "VERIFICATION_CODE"
    APPLICATION_STATUS = "APPLICATION_STATUS"
    STAFF_BINDING = "STAFF_BINDING"
    SCHOOL_STATUS = "SCHOOL_STATUS"
    GRADE = "GRADE"
    ATTENDANCE = "ATTENDANCE"
    HOMEWORK = "HOMEWORK"
    LESSON = "LESSON"  # a lesson moved, cancelled or given by a substitute
    MESSAGE = "MESSAGE"
    ANNOUNCEMENT = "ANNOUNCEMENT"
    FEEDBACK = "FEEDBACK"
    REPORT = "REPORT"  # a requested report is ready (or could not be made)
    PERSONAL_DATA = "PERSONAL_DATA"  # a data export is ready, an erasure request decided or done


# --- schools and staff -------------------------------------------------------


class SchoolType(enum.StrEnum):
    SCHOOL = "SCHOOL"
    GYMNASIUM = "GYMNASIUM"
    LYCEUM = "LYCEUM"
    EDUCATION_CENTER = "EDUCATION_CENTER"
    BOARDING_SCHOOL = "BOARDING_SCHOOL"
    OTHER = "OTHER"


class SchoolStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"


class LaunchMode(enum.StrEnum):
    TEST = "TEST"
    OPEN = "OPEN"


class StaffBindingStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"


class ChildTransferStatus(enum.StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    DECLINED = "DECLINED"


class StaffDocumentKind(enum.StrEnum):
    APPOINTMENT_ORDER = "APPOINTMENT_ORDER"
    SCHOOL_CERTIFICATE = "SCHOOL_CERTIFICATE"
    SERVICE_CONTRACT = "SERVICE_CONTRACT"


# --- calendar ----------------------------------------------------------------


class PeriodKind(enum.StrEnum):
    QUARTER = "QUARTER"
    TRIMESTER = "TRIMESTER"
    SEMESTER = "SEMESTER"


# --- children and applications -----------------------------------------------


class Sex(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


class ApplicationStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    IN_REVIEW = "IN_REVIEW"
    NEEDS_CORRECTION = "NEEDS_CORRECTION"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ApplicationAction(enum.StrEnum):
    """What happened to an application: one history row per action."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    SUBMIT = "SUBMIT"
    ACCEPT = "ACCEPT"
    START_REVIEW = "START_REVIEW"
    REQUEST_CORRECTION = "REQUEST_CORRECTION"
    EXTEND = "EXTEND"
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class ApplicationAttachmentKind(enum.StrEnum):
    BIRTH_CERTIFICATE = "BIRTH_CERTIFICATE"
    SCHOOL_CERTIFICATE = "SCHOOL_CERTIFICATE"
    OTHER = "OTHER"


# --- diary -------------------------------------------------------------------


class LessonStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"


class GradeKind(enum.StrEnum):
    REGULAR = "REGULAR"
    PERIOD_FINAL = "PERIOD_FINAL"
    YEAR_FINAL = "YEAR_FINAL"


class GradeAction(enum.StrEnum):
    CREATED = "CREATED"
    CORRECTED = "CORRECTED"
    DELETED = "DELETED"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"
    LATE = "LATE"
    EXCUSED = "EXCUSED"
    SICK = "SICK"


# --- messages, feedback, reports ---------------------------------------------


class AnnouncementKind(enum.StrEnum):
    GENERAL = "GENERAL"
    EVENT = "EVENT"
    MEETING = "MEETING"
    SCHEDULE_CHANGE = "SCHEDULE_CHANGE"
    DEADLINE = "DEADLINE"
    HOLIDAY = "HOLIDAY"
    URGENT = "URGENT"


class AnnouncementAudience(enum.StrEnum):
    """Who an announcement is addressed to: everyone at the school (staff, families,
    students), the families and students of chosen classes (and their teachers), or
    the school's staff only."""

    SCHOOL = "SCHOOL"
    CLASSES = "CLASSES"
    STAFF = "STAFF"


class FeedbackCategory(enum.StrEnum):
    TECHNICAL = "TECHNICAL"
    CONTENT_ERROR = "CONTENT_ERROR"
    SUGGESTION = "SUGGESTION"


class FeedbackStatus(enum.StrEnum):
    """OPEN → IN_PROGRESS → ANSWERED → CLOSED; the author may reopen an answered or
    closed ticket within 7 days of the answer (back to OPEN)."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"


class ReminderKind(enum.StrEnum):
    """What a reminder is about; with its target and recipient it is sent once."""

    HOMEWORK_DUE = "HOMEWORK_DUE"
    APPLICATION_DUE = "APPLICATION_DUE"
    FEEDBACK_DUE = "FEEDBACK_DUE"  # a ticket near its 24 hours
    FEEDBACK_OVERDUE = "FEEDBACK_OVERDUE"  # and once past them


# --- integrations ---------------------------------------------------------------


class IntegrationStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class IntegrationScope(enum.StrEnum):
    """What an integration's tokens may do, at its one school."""

    ROSTER_READ = "roster:read"
    ROSTER_WRITE = "roster:write"
    DIARY_READ = "diary:read"
    GRADES_WRITE = "grades:write"
    ATTENDANCE_WRITE = "attendance:write"
    EVENTS_READ = "events:read"


class WebhookStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"  # after repeated failures, or by an admin


class ReportKind(enum.StrEnum):
    PROGRESS = "PROGRESS"
    ATTENDANCE = "ATTENDANCE"


class ReportScope(enum.StrEnum):
    CHILD = "CHILD"
    CLASS = "CLASS"
    SCHOOL = "SCHOOL"


class ReportFormat(enum.StrEnum):
    PDF = "PDF"
    XLSX = "XLSX"
    CSV = "CSV"
    HTML = "HTML"


class ReportStatus(enum.StrEnum):
    """QUEUED → RUNNING → READY | FAILED; a READY report's file is deleted when it
    expires (EXPIRED). A RUNNING report whose worker died goes back to work when its
    lease runs out."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class ReportColumn(enum.StrEnum):
    """The columns a report template may choose, in the order it gives them. A
    teacher's comment is not among them: `include_comments` adds it as the last column."""

    DATE = "DATE"
    SUBJECT = "SUBJECT"
    GRADE = "GRADE"  # progress
    CONTROL_TYPE = "CONTROL_TYPE"  # progress
    WEIGHT = "WEIGHT"  # progress
    STATUS = "STATUS"  # attendance
    MINUTES_LATE = "MINUTES_LATE"  # attendance
    TEACHER = "TEACHER"
    TOPIC = "TOPIC"  # the lesson's topic


class ReportGrouping(enum.StrEnum):
    SUBJECT = "SUBJECT"  # a table per subject
    DATE = "DATE"  # one table in the order of the lessons
