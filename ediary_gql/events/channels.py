"""Channel names: one place, so publishers and subscribers agree."""

from __future__ import annotations


def user_notifications(user_id: int) -> str:
    return f"user.{user_id}.notifications"


def deliveries() -> str:
    """New notification deliveries were committed: delivery dispatchers wake on it."""
    return "notifications.deliveries"


def user_sessions(user_id: int) -> str:
    """Sign-outs: open WebSocket connections of a revoked session close on it."""
    return f"user.{user_id}.sessions"


def application_status(application_id: int) -> str:
    """Status changes of one parent's application (applicationStatusChanged(applicationId))."""
    return f"application.{application_id}.status"


def school_applications(school_id: int) -> str:
    """Status changes of every application to a school (applicationStatusChanged for staff)."""
    return f"school.{school_id}.applications"


def child_grades(child_id: int) -> str:
    """A child's grades created, corrected or deleted (gradeEvents(childId))."""
    return f"child.{child_id}.grades"


def class_attendance(class_id: int) -> str:
    """Attendance marks of a class's lessons (attendanceEvents(classId), attendanceSummary)."""
    return f"class.{class_id}.attendance"


def school_attendance(school_id: int) -> str:
    """Attendance marks of every class of a school (attendanceEvents(schoolId))."""
    return f"school.{school_id}.attendance"


def thread_messages(thread_id: int) -> str:
    """New messages, reads and departures in one thread (threadEvents(threadId))."""
    return f"thread.{thread_id}.messages"


def user_messages(user_id: int) -> str:
    """New messages in any of a user's threads (messageEvents)."""
    return f"user.{user_id}.messages"


def school_announcements(school_id: int) -> str:
    """Announcements of a school published, updated or withdrawn (announcementEvents(schoolId))."""
    return f"school.{school_id}.announcements"


def school_changes(school_id: int, record_type: str) -> str:
    """Records of one type (LESSON, GRADE, …) of a school created, updated or deleted: the
    school's change feed (changes, changeEvents, webhooks), one channel per type so a
    reader of some types reads only theirs."""
    return f"school.{school_id}.changes.{record_type.lower()}"


def changes_committed() -> str:
    """Some school's records changed: webhook senders wake on it to relay the changes."""
    return "changes.committed"


def feedback_tickets() -> str:
    """Feedback tickets submitted, taken, answered or reopened: the operators' queue."""
    return "feedback.tickets"


def user_reports(user_id: int) -> str:
    """A user's requested reports changing status (reportEvents)."""
    return f"user.{user_id}.reports"


def reports_queue() -> str:
    """New reports were queued: report workers wake on it."""
    return "reports.queue"
