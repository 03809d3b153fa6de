"""Descriptions of the schema's enum values, by enum and value.

The enums are the domain's own (db/models/enums.py and the areas' types), wrapped by
`strawberry.enum`; their values are described here, in one place, and given to the built
schema by `describe`. A value described where it is defined keeps that description.
"""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLSchema

VALUES: dict[str, dict[str, str]] = {
    "AnnouncementAudience": {
        "SCHOOL": "The whole school: staff, families and students",
        "CLASSES": "The families and students of the classes named, their teachers and the school's admins",
        "STAFF": "The school's staff only",
    },
    "AnnouncementKind": {
        "GENERAL": "General news",
        "EVENT": "An event: a concert, an excursion, a competition",
        "MEETING": "A parents' meeting",
        "SCHEDULE_CHANGE": "A change of the timetable",
        "DEADLINE": "A date by which something is due",
        "HOLIDAY": "Days off and holidays",
        "URGENT": "Urgent: read at once",
    },
    "ApplicationAction": {
        "CREATE": "The draft was created",
        "UPDATE": "The draft (or the application under correction) was edited",
        "SUBMIT": "Submitted for review: the application got its number and due date",
        "ACCEPT": "The school took the application for review",
        "START_REVIEW": "The school started checking the data",
        "REQUEST_CORRECTION": "Sent back to the parent to correct",
        "EXTEND": "The due date was extended for more checks",
        "APPROVE": "Approved: the guardianship and the enrolment were made",
        "REJECT": "Rejected, with a reason",
    },
    "ApplicationAttachmentKind": {
        "BIRTH_CERTIFICATE": "The child's birth certificate",
        "SCHOOL_CERTIFICATE": "A certificate from the school that the child studies there",
        "OTHER": "Any other supporting document",
    },
    "ApplicationStatus": {
        "DRAFT": "Being filled in by the parent; seen by no one else",
        "SUBMITTED": "Sent to the school, waiting to be accepted",
        "ACCEPTED": "Taken by the school for review",
        "IN_REVIEW": "The school is checking the data",
        "NEEDS_CORRECTION": "Sent back to the parent to correct and submit again",
        "APPROVED": "Approved: the parent reads the child's diary",
        "REJECTED": "Rejected, with a reason",
    },
    "AttendanceGroupBy": {
        "CLASS": "A row per class",
        "DAY": "A row per school day",
        "CHILD": "A row per child",
        "SUBJECT": "A row per subject",
    },
    "AttendanceStatus": {
        "PRESENT": "Present",
        "ABSENT": "Absent without a reason given",
        "LATE": "Came late (with the minutes late)",
        "EXCUSED": "Absent for a valid reason",
        "SICK": "Absent because of illness",
    },
    "ChangeAction": {
        "CREATED": "The record was created",
        "UPDATED": "The record was changed",
        "DELETED": "The record was deleted",
    },
    "ChangeType": {
        "LESSON": "A lesson",
        "GRADE": "A grade",
        "ATTENDANCE": "An attendance mark",
        "HOMEWORK": "A homework",
        "ENROLLMENT": "A child's enrolment in a class",
    },
    "Channel": {
        "EMAIL": "By email",
        "SMS": "By text message to the phone",
        "PUSH": "As a push notification to the mobile app",
    },
    "ChildTransferStatus": {
        "PENDING": "Waiting for the decision of the school or the guardians",
        "CONFIRMED": "Confirmed: the child's record moved to the new school",
        "DECLINED": "Declined: the record stays where it was",
    },
    "ConsentMethod": {
        "FORM": "Given in our own form or app",
        "PROVIDER": "Given while signing in with the portal",
        "MIGRATED": "Kept from before consent records were kept",
    },
    "ContactChannel": {"SMS": "The phone, by text message", "EMAIL": "The email address"},
    "DataRequestKind": {
        "EXPORT": "Everything held about you, as a ZIP of JSON files",
        "ERASURE": "Erasure of your account's personal data",
    },
    "DataRequestStatus": {
        "QUEUED": "An export waiting to be built",
        "RUNNING": "An export being built",
        "READY": "An export ready to download",
        "FAILED": "An export that could not be built",
        "EXPIRED": "An export whose file was deleted",
        "SUBMITTED": "An erasure waiting for an operator's decision",
        "APPROVED": "An erasure approved, about to be carried out",
        "REJECTED": "An erasure refused, with a reason",
        "DONE": "An erasure carried out",
    },
    "ErasureDecision": {"APPROVE": "Approve the erasure and carry it out", "REJECT": "Refuse it, with a reason"},
    "EventType": {
        "GRADE": "A grade entered, corrected or deleted",
        "ATTENDANCE": "An attendance mark",
        "APPLICATION": "An application's change of status",
        "NOTIFICATION": "A new notification",
        "MESSAGE": "A message in a thread",
        "ANNOUNCEMENT": "An announcement published, changed or withdrawn",
        "FEEDBACK": "A feedback ticket's change",
    },
    "FeedbackCategory": {
        "TECHNICAL": "Something does not work",
        "CONTENT_ERROR": "Wrong data of a school: a grade, a lesson",
        "SUGGESTION": "An idea for the service",
    },
    "FeedbackStatus": {
        "OPEN": "Waiting for an operator",
        "IN_PROGRESS": "Taken by an operator",
        "ANSWERED": "Answered; the author may reopen it within 7 days",
        "CLOSED": "Closed",
    },
    "FeedbackTicketAction": {
        "TAKE": "Take the ticket to answer it",
        "ANSWER": "Answer the ticket",
        "REOPEN": "Reopen the answered ticket",
        "CLOSE": "Close the ticket",
    },
    "GradeAction": {
        "CREATED": "The grade was entered",
        "CORRECTED": "The grade was corrected",
        "DELETED": "The grade was deleted",
    },
    "GradeKind": {
        "REGULAR": "A grade at a lesson",
        "PERIOD_FINAL": "The final grade of a period",
        "YEAR_FINAL": "The final grade of the year",
    },
    "IntegrationStatus": {"ACTIVE": "It gets tokens", "REVOKED": "Revoked for good: its tokens are refused"},
    "LaunchMode": {"TEST": "A test launch: staff only", "OPEN": "Open: offered to parents"},
    "LessonStatus": {"SCHEDULED": "Takes place as planned", "CANCELLED": "Cancelled; kept in the diary"},
    "NotificationKind": {
        "SYSTEM": "A notice of the service",
        "SECURITY": "About the account's security: a sign-in, a password change",
        "VERIFICATION_CODE": "A confirmation code",
        "APPLICATION_STATUS": "An application's change of status",
        "STAFF_BINDING": "A decision on a staff-binding request",
        "SCHOOL_STATUS": "A decision on a school's registration",
        "GRADE": "A new or changed grade",
        "ATTENDANCE": "An attendance mark",
        "HOMEWORK": "New homework, or one due soon",
        "LESSON": "A change of a lesson",
        "MESSAGE": "A new message",
        "ANNOUNCEMENT": "A new announcement",
        "FEEDBACK": "An answer to a feedback ticket",
        "REPORT": "A report ready or failed",
        "PERSONAL_DATA": "A data export or erasure",
    },
    "PeriodKind": {"QUARTER": "Four quarters", "TRIMESTER": "Three trimesters", "SEMESTER": "Two semesters"},
    "ReportColumn": {
        "DATE": "The lesson's date",
        "SUBJECT": "The subject",
        "GRADE": "The grade",
        "CONTROL_TYPE": "The kind of graded work",
        "WEIGHT": "The grade's weight in the weighted average",
        "STATUS": "The attendance mark",
        "MINUTES_LATE": "How many minutes late",
        "TEACHER": "The lesson's teacher",
        "TOPIC": "The lesson's topic",
    },
    "ReportFormat": {
        "PDF": "PDF, A4 landscape",
        "XLSX": "An Excel workbook",
        "CSV": "CSV: UTF-8 with BOM, separated by ';'",
        "HTML": "A standalone HTML page",
    },
    "ReportGrouping": {"SUBJECT": "A table per subject", "DATE": "One table, in the order of the lessons"},
    "ReportKind": {"PROGRESS": "Grades and averages", "ATTENDANCE": "Attendance"},
    "ReportScope": {"CHILD": "One child", "CLASS": "A class", "SCHOOL": "A whole school"},
    "ReportStatus": {
        "QUEUED": "Waiting to be built",
        "RUNNING": "Being built",
        "READY": "Ready to download",
        "FAILED": "Could not be built",
        "EXPIRED": "Its file was deleted",
    },
    "ReviewAction": {
        "ACCEPT": "Take the submitted application for review",
        "START_REVIEW": "Start checking the data",
        "REQUEST_CORRECTION": "Send it back to the parent to correct",
        "EXTEND": "Extend the due date for more checks (10 working days instead of 5)",
        "APPROVE": "Approve: make the guardianship and the enrolment",
        "REJECT": "Reject, with a reason",
    },
    "SchoolReviewDecision": {"APPROVE": "Connect the school", "REJECT": "Refuse, with a reason"},
    "SchoolStatus": {
        "PENDING": "Registered, waiting for an operator",
        "ACTIVE": "Verified and connected, with a diary UID",
        "REJECTED": "Refused, with a reason",
    },
    "SchoolType": {
        "SCHOOL": "A general school",
        "GYMNASIUM": "A gymnasium",
        "LYCEUM": "A lyceum",
        "EDUCATION_CENTER": "An education centre",
        "BOARDING_SCHOOL": "A boarding school",
        "OTHER": "Another kind",
    },
    "Sex": {"MALE": "Male", "FEMALE": "Female"},
    "SourcedType": {
        "CHILD": "A child",
        "TEACHER": "A person as a teacher",
        "GUARDIAN": "A person as a guardian",
        "SCHOOL_CLASS": "A class",
        "SUBJECT": "A subject",
        "LESSON": "A lesson",
        "GRADE": "A grade",
        "ATTENDANCE": "An attendance mark",
    },
    "StaffBindingDecision": {"APPROVE": "Approve the request", "REJECT": "Reject it, with a reason"},
    "StaffBindingStatus": {
        "PENDING": "Waiting for a decision",
        "ACTIVE": "Approved: the user holds the role",
        "REJECTED": "Rejected, with a reason",
    },
    "StaffDocumentKind": {
        "APPOINTMENT_ORDER": "An order of appointment",
        "SCHOOL_CERTIFICATE": "A certificate from the school",
        "SERVICE_CONTRACT": "A service contract",
    },
    "StaffRole": {
        "TEACHER": "Teaches classes and keeps their journal",
        "SCHOOL_ADMIN": "Sets the school up and reviews applications",
        "INTEGRATOR": "A third-party system's service account",
    },
    "SyncAction": {
        "CREATED": "Created",
        "UPDATED": "Changed",
        "UNCHANGED": "Already as sent: nothing to do",
    },
    "UserErrorCode": {
        "INVALID": "The value is not valid",
        "REQUIRED": "The value is missing",
        "TOO_LONG": "The value is too long",
        "NOT_FOUND": "Nothing with that ID (or not yours to see)",
        "DUPLICATE": "Such a record exists already",
        "CONFLICT": "Clashes with another record (a teacher, class or room booked twice)",
        "INVALID_STATE": "Not possible in the record's present state",
        "FILE_TOO_LARGE": "The file is larger than allowed",
        "FILE_TYPE_NOT_ALLOWED": "The file's content is not of an allowed type",
        "UNAUTHENTICATED": "Sign in first",
        "INVALID_CREDENTIALS": "Wrong login or password",
        "TOKEN_EXPIRED": "The token has expired",
        "TOKEN_INVALID": "The token is not valid",
        "TOKEN_REVOKED": "The token was revoked (signed out)",
        "FORBIDDEN": "Not allowed to you",
        "ACCOUNT_NOT_CONFIRMED": "Confirm the account's contacts first",
        "RATE_LIMITED": "Too many requests; try again later",
        "WEAK_PASSWORD": "The password is too easy to guess",
        "CODE_EXPIRED": "The code has expired",
        "TOO_MANY_ATTEMPTS": "Too many wrong attempts",
        "TWO_FACTOR_REQUIRED": "A second-factor code is needed",
        "CONSENT_REQUIRED": "Consent to the processing of personal data is needed first",
        "STREAM_INTERRUPTED": "The stream broke off; resume from the last cursor",
        "CURSOR_EXPIRED": "The cursor is older than the events kept; read the current state again",
        "SUBSCRIBER_TOO_SLOW": "The subscriber fell too far behind",
    },
    "UserStatus": {
        "TEMPORARY": "Contacts not confirmed yet",
        "CONFIRMED": "Contacts confirmed: may apply, teach or administer",
        "BLOCKED": "Blocked: may not sign in",
    },
    "WebhookDeliveryStatus": {
        "PENDING": "To be sent, or sent again",
        "SENT": "The receiver answered 2xx",
        "FAILED": "Given up after the last retry",
    },
    "WebhookStatus": {
        "ACTIVE": "Receives deliveries",
        "DISABLED": "Disabled by its owner, or after repeated failures",
    },
}


def describe(schema: GraphQLSchema) -> None:
    """Give the built schema's enum values their descriptions (where none was given)."""
    for enum_name, values in VALUES.items():
        enum = schema.type_map.get(enum_name)
        if not isinstance(enum, GraphQLEnumType):
            continue
        for value_name, description in values.items():
            value = enum.values.get(value_name)
            if value is not None and not value.description:
                value.description = description
