"""Async factories for every model: `await make_x(session, **overrides)`.

Each factory makes the parents it needs unless they are given, flushes, and
returns the row. Parents may be given as ids (`school_id=3`) or as rows
(`school=school`, `school_class=cls`, `teacher=user`, `region=region`).
Users get the password hash "not-a-real-hash": pass `password="…"` to any user factory
(make_user, make_teacher, make_school_admin, make_staff_user, make_operator) for one
that signs in with it.
"""

from tests.factories._base import FAKE_PASSWORD_HASH, fake, seq
from tests.factories.applications import (
    make_application,
    make_application_attachment,
    make_application_event,
    make_application_number_counter,
)
from tests.factories.attachments import make_attachment
from tests.factories.attendance import make_attendance
from tests.factories.audit import make_audit_entry
from tests.factories.calendar import (
    make_academic_year,
    make_calendar_override,
    make_holiday,
    make_period,
)
from tests.factories.children import (
    make_child,
    make_child_transfer,
    make_enrolled_child,
    make_enrollment,
    make_guardianship,
)
from tests.factories.classes import make_school_class, make_subject, make_teaching_assignment
from tests.factories.event_log import make_event_log_head, make_event_record
from tests.factories.feedback import (
    make_feedback_attachment,
    make_feedback_number_counter,
    make_feedback_ticket,
)
from tests.factories.geo import make_region, make_settlement
from tests.factories.grades import make_control_type, make_grade, make_grade_revision
from tests.factories.homework import (
    make_homework,
    make_homework_attachment,
    make_homework_completion,
)
from tests.factories.identities import make_consent_record, make_oidc_login, make_user_identity
from tests.factories.integrations import (
    make_integration,
    make_integration_secret,
    make_webhook,
    make_webhook_delivery,
)
from tests.factories.lessons import lesson_times, make_lesson, make_timetable_slot, make_timetable_template
from tests.factories.messages import (
    make_announcement,
    make_announcement_attachment,
    make_announcement_class,
    make_message,
    make_message_attachment,
    make_thread,
    make_thread_participant,
)
from tests.factories.notifications import (
    make_notification,
    make_notification_delivery,
    make_outbox_message,
)
from tests.factories.personal_data import make_data_request, make_sensitive_read
from tests.factories.reminders import make_sent_reminder
from tests.factories.reports import make_report, make_report_remark, make_report_template
from tests.factories.school_setup import make_roster_link, make_teacher_invitation
from tests.factories.schools import (
    make_school,
    make_school_admin,
    make_staff_binding,
    make_staff_membership,
    make_staff_user,
    make_teacher,
)
from tests.factories.users import (
    make_auth_session,
    make_operator,
    make_rate_limit_hit,
    make_sign_in_failure,
    make_user,
    make_verification_code,
)

__all__ = [
    "FAKE_PASSWORD_HASH",
    "fake",
    "lesson_times",
    "make_academic_year",
    "make_announcement",
    "make_announcement_attachment",
    "make_announcement_class",
    "make_application",
    "make_application_attachment",
    "make_application_event",
    "make_application_number_counter",
    "make_attachment",
    "make_attendance",
    "make_audit_entry",
    "make_auth_session",
    "make_calendar_override",
    "make_child",
    "make_child_transfer",
    "make_consent_record",
    "make_control_type",
    "make_data_request",
    "make_enrolled_child",
    "make_enrollment",
    "make_event_log_head",
    "make_event_record",
    "make_feedback_attachment",
    "make_feedback_number_counter",
    "make_feedback_ticket",
    "make_grade",
    "make_grade_revision",
    "make_guardianship",
    "make_holiday",
    "make_homework",
    "make_homework_attachment",
    "make_homework_completion",
    "make_integration",
    "make_integration_secret",
    "make_lesson",
    "make_message",
    "make_message_attachment",
    "make_notification",
    "make_notification_delivery",
    "make_oidc_login",
    "make_operator",
    "make_outbox_message",
    "make_period",
    "make_rate_limit_hit",
    "make_region",
    "make_report",
    "make_report_remark",
    "make_report_template",
    "make_roster_link",
    "make_school",
    "make_school_admin",
    "make_school_class",
    "make_sensitive_read",
    "make_sent_reminder",
    "make_settlement",
    "make_sign_in_failure",
    "make_staff_binding",
    "make_staff_membership",
    "make_staff_user",
    "make_subject",
    "make_teacher",
    "make_teacher_invitation",
    "make_teaching_assignment",
    "make_thread",
    "make_thread_participant",
    "make_timetable_slot",
    "make_timetable_template",
    "make_user",
    "make_user_identity",
    "make_verification_code",
    "make_webhook",
    "make_webhook_delivery",
    "seq",
]
