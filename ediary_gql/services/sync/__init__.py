"""Sync by external IDs: an integrator's bulk, idempotent upserts of lessons, grades and
attendance marks, keyed by the school's sourcedIds, and one record found by its sourcedId.

A call takes up to 1,000 items. Every item is checked by the rules the teachers'
mutations apply (createLesson/updateLesson, enterGrade/correctGrade, markAttendance),
through the same functions of those services or their set-based forms (one statement for
all items where the single-item form reads one row); every refusal is reported with the
item's index path (`items.17.value`), and the batch is written only when there is none
(all or nothing). Writing the same items again changes nothing. A dry run checks and
writes in the caller's transaction, which then rolls back (as `importRoster` does).

The number of SQL statements of a call does not grow with its items.

- `batch`: what a call takes and gives back, the checks every call shares
- `lessons`: `sync_lessons`
- `grades`: `sync_grades`
- `attendance`: `sync_attendance`
- `lookup`: `find` (nodeBySourcedId), the sourcedIds of teachers, guardians, grades and marks
"""

from ediary_gql.services.sync.attendance import MarkItem, sync_attendance
from ediary_gql.services.sync.batch import MAX_ITEMS, Action, Synced, SyncResult
from ediary_gql.services.sync.grades import GradeItem, sync_grades
from ediary_gql.services.sync.lessons import LessonItem, sync_lessons
from ediary_gql.services.sync.lookup import SourcedType, find

__all__ = [
    "MAX_ITEMS",
    "Action",
    "GradeItem",
    "LessonItem",
    "MarkItem",
    "SourcedType",
    "SyncResult",
    "Synced",
    "find",
    "sync_attendance",
    "sync_grades",
    "sync_lessons",
]
