"""The IDs a client sees are global IDs. A notification's payload and an audit entry's
before/after name rows; what a client reads there must be what `node(id:)`,
`application(id:)` and every input take: the global ID (base64 of "Type:id"), under a
camelCase key — never a row number, never a snake_case key.

Services write those dicts with row ids, as they have them; `public` turns them into what
clients see, once, where they are stored (`notifications.notify`, `audit.record`), so no
call site has to remember it. Which key names which type is written here, in one table.

A key that looks like an ID (`…Id`, `…_id`, `…Ids`) but is not in the table, holding a
number, is a call site this table does not know yet: `public` warns (`UnknownIdKey`),
which the test suite turns into an error (pytest `filterwarnings = error`), so a new one
cannot leak row numbers unnoticed; in production the entry is written as it is.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Mapping
from typing import Any

# key (camelCase) -> the node type its value names; `…Ids` (a list) is looked up by its
# singular, `fooIds` as `fooId`.
ID_KEYS: Mapping[str, str] = {
    "announcementId": "Announcement",
    "academicYearId": "AcademicYear",
    "actorId": "User",
    "applicationId": "Application",
    "answeredById": "User",
    "appointmentDocumentId": "Attachment",
    "assignmentId": "TeachingAssignment",
    "assigneeId": "User",
    "attachmentId": "Attachment",
    "authorId": "User",
    "bindingId": "StaffBinding",
    "childId": "Child",
    "childTransferId": "ChildTransfer",
    "classId": "SchoolClass",
    "controlTypeId": "ControlType",
    "dataRequestId": "DataRequest",
    "decidedById": "User",
    "documentId": "Attachment",
    "enrollmentId": "Enrollment",
    "feedbackTicketId": "FeedbackTicket",
    "fromClassId": "SchoolClass",
    "fromSchoolId": "School",
    "gradeId": "Grade",
    "holidayId": "Holiday",
    "homeroomTeacherId": "User",
    "homeworkId": "Homework",
    "invitationId": "TeacherInvitation",  # not a Node; named as auditLog's entityId names it
    "lessonId": "Lesson",
    "markedById": "User",
    "messageId": "Message",
    "notificationId": "Notification",
    "parentId": "User",
    "periodId": "Period",
    "recordId": "Child",  # the other school's record of a child (child transfers)
    "regionId": "Region",
    "reportId": "Report",
    "reportTemplateId": "ReportTemplate",
    "requestedById": "User",
    "reviewedById": "User",
    "schoolId": "School",
    "subjectUserId": "User",
    "settlementId": "Settlement",
    "staffBindingId": "StaffBinding",
    "subjectId": "Subject",
    "substituteTeacherId": "User",
    "teacherId": "User",
    "teachingAssignmentId": "TeachingAssignment",
    "templateId": "TimetableTemplate",
    "threadId": "Thread",
    "ticketId": "FeedbackTicket",
    "timetableTemplateId": "TimetableTemplate",
    "toClassId": "SchoolClass",
    "toSchoolId": "School",
    "transferId": "ChildTransfer",
    "userId": "User",
    "webhookId": "Webhook",
}
# Lists of ids under a name of their own (not `…Ids`).
ID_LIST_KEYS: Mapping[str, str] = {
    "attachments": "Attachment",  # assignHomework: the homework's files
}
# `id` / `ids` name rows of the entry's own entity type (markNotificationsRead: "ids").
OWN_KEYS = frozenset({"id", "ids"})

_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


class UnknownIdKey(UserWarning):
    """A payload or audit key that looks like an ID and holds a number, but names no type here."""


def global_id(type_name: str, pk: int) -> str:
    """The Relay global ID of a row, as strawberry's `relay.to_base64` makes it: the one
    encoder the services use (payloads, audit entries, messages that name a row)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, int] | None:
    """`global_id` read back: (type name, primary key), or None if `value` is not one."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, pk = text.partition(":")
    return (type_name, int(pk)) if type_name and pk.isdigit() else None


def camel(key: str) -> str:
    """`child_id` -> `childId`; camelCase keys and data keys (`GRADE`, `5А`) stay as they are."""
    if not _SNAKE.fullmatch(key):
        return key
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def looks_like_id(key: str) -> bool:
    """Whether a (camelCase) key names rows: `id`, `ids`, `…Id`, `…Ids`."""
    return key in OWN_KEYS or key.endswith(("Id", "Ids"))


def type_of(key: str, *, entity_type: str | None = None) -> str | None:
    """The node type a (camelCase) key's value names, None if it names none known."""
    if key in OWN_KEYS:
        return entity_type
    if key in ID_LIST_KEYS:
        return ID_LIST_KEYS[key]
    return ID_KEYS.get(key[:-1] if key.endswith("Ids") else key)


def _is_pk(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _encode(type_name: str, value: Any) -> Any:
    """Row ids (an int, or ints in a list) as global IDs; anything else (None, a global ID
    already, a text id) as it is, so applying `public` twice changes nothing."""
    if _is_pk(value):
        return global_id(type_name, value)
    if isinstance(value, list):
        return [global_id(type_name, item) if _is_pk(item) else item for item in value]
    return value


def _holds_pk(value: Any) -> bool:
    return _is_pk(value) or (isinstance(value, list) and any(_is_pk(item) for item in value))


def _convert(value: Any, entity_type: str | None, strict: bool) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = camel(raw_key) if isinstance(raw_key, str) else raw_key
            named = type_of(key, entity_type=entity_type) if isinstance(key, str) else None
            if named is not None:
                out[key] = _encode(named, item)
                continue
            if strict and isinstance(key, str) and looks_like_id(key) and _holds_pk(item):
                warnings.warn(
                    f"{key!r} holds a row id but names no type in services/public_ids.ID_KEYS: "
                    "add it there, so clients get a global ID",
                    UnknownIdKey,
                    stacklevel=4,
                )
            out[key] = _convert(item, entity_type, strict)
        return out
    if isinstance(value, list):
        return [_convert(item, entity_type, strict) for item in value]
    return value


def public(
    values: Mapping[str, Any] | None, *, entity_type: str | None = None, strict: bool = True
) -> dict[str, Any] | None:
    """`values` as clients see them: camelCase keys (nested dicts too), every id under a key
    of the table a global ID. `entity_type` is what `id`/`ids` name. Pure; idempotent."""
    if values is None:
        return None
    converted: dict[str, Any] = _convert(dict(values), entity_type, strict)
    return converted
