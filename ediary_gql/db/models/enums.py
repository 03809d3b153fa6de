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
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
