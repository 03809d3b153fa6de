"""syncLessons, syncGrades, syncAttendance: their items, payloads and what became of each
item; the kinds of record nodeBySourcedId finds."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.attendance import Attendance as AttendanceRow
from ediary_gql.db.models.grades import Grade as GradeRow
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.sync import SyncNotApplied
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.types.attendance import Attendance, AttendanceStatus
from ediary_gql.schema.types.grade import Grade
from ediary_gql.schema.types.lesson import Lesson, LessonStatus
from ediary_gql.services import sync as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info[Context, None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info

SyncAction = strawberry.enum(
    service.Action, name="SyncAction", description="What a sync did (or, on a dry run, would do) to an item"
)
SourcedType = strawberry.enum(
    service.SourcedType, description="What a sourcedId names (a person as a teacher or as a guardian)"
)

ITEMS = f"Up to {service.MAX_ITEMS}, each keyed by its sourcedId"
DRY_RUN = "Check and report only; nothing is written"


@strawberry.type(description="How many items were (on a dry run: would be) created, updated and left unchanged")
class SyncSummary:
    created: int = strawberry.field(description="How many were created")
    updated: int = strawberry.field(description="How many were changed")
    unchanged: int = strawberry.field(description="How many were already as given")


class _Synced:
    index: int
    sourced_id: str
    action: Any
    _target_id: int
    _applied: bool

    @classmethod
    def of(cls, item: service.Synced, applied: bool) -> Self:
        return cls(  # type: ignore[call-arg]  # strawberry types
            index=item.index,
            sourced_id=item.sourced_id,
            action=item.action,
            _target_id=item.target_id,
            _applied=applied,
        )

    async def _row(self, info: Info, model: Any) -> Any:
        return await info.context.loaders.by_id(model).load(self._target_id) if self._applied else None


@strawberry.type(description="What became of one lesson of the call")
class SyncedLesson(_Synced):
    index: int = strawberry.field(description="The item's place in `items`, from 0")
    sourced_id: str = strawberry.field(description="The school's external ID (roster imports and syncs)")
    action: SyncAction = strawberry.field(description="What was done to the lesson")  # type: ignore[valid-type]
    _target_id: strawberry.Private[int]
    _applied: strawberry.Private[bool]

    @strawberry.field(description="The lesson as written; null on a dry run")
    async def lesson(self, info: Info) -> Lesson | None:
        row = await self._row(info, LessonRow)
        return None if row is None else Lesson.from_row(row)


@strawberry.type(description="What became of one grade of the call")
class SyncedGrade(_Synced):
    index: int = strawberry.field(description="The item's place in `items`, from 0")
    sourced_id: str = strawberry.field(description="The school's external ID (roster imports and syncs)")
    action: SyncAction = strawberry.field(description="What was done to the grade")  # type: ignore[valid-type]
    _target_id: strawberry.Private[int]
    _applied: strawberry.Private[bool]

    @strawberry.field(description="The grade as written; null on a dry run")
    async def grade(self, info: Info) -> Grade | None:
        row = await self._row(info, GradeRow)
        return None if row is None else Grade.from_row(row)


@strawberry.type(description="What became of one attendance mark of the call")
class SyncedAttendance(_Synced):
    index: int = strawberry.field(description="The item's place in `items`, from 0")
    sourced_id: str = strawberry.field(description="The school's external ID (roster imports and syncs)")
    action: SyncAction = strawberry.field(description="What was done to the mark")  # type: ignore[valid-type]
    _target_id: strawberry.Private[int]
    _applied: strawberry.Private[bool]

    @strawberry.field(description="The mark as written; null on a dry run")
    async def attendance(self, info: Info) -> Attendance | None:
        row = await self._row(info, AttendanceRow)
        return None if row is None else Attendance.from_row(row)


class _SyncPayload(Payload):
    """A sync's payload: applied, the summary and each item, or the refusals. A dry run
    rolled back is reported as run."""

    item_type: ClassVar[type[_Synced]]

    @classmethod
    def of(cls, result: service.SyncResult) -> Self:
        return cls(  # type: ignore[call-arg]  # strawberry types
            applied=result.applied,
            summary=SyncSummary(
                created=result.count(service.Action.CREATED),
                updated=result.count(service.Action.UPDATED),
                unchanged=result.count(service.Action.UNCHANGED),
            ),
            items=[cls.item_type.of(item, result.applied) for item in result.items],
        )

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        if isinstance(error, SyncNotApplied):
            return cls.of(error.result)
        return super().refused(error)


APPLIED = "True when the call wrote its items (not a dry run, and no item refused)"


@strawberry.type(description="Per item of a lessons sync, what was created or changed, or why the item was refused")
class SyncLessonsPayload(_SyncPayload):
    item_type: ClassVar[type[_Synced]] = SyncedLesson
    applied: bool = strawberry.field(default=False, description=APPLIED)
    summary: SyncSummary | None = strawberry.field(
        default=None, description="The summary as it now is; null when the input was refused"
    )
    items: list[SyncedLesson] = strawberry.field(
        default_factory=list, description="Per item sent, in order, what was done"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="Per item of a grades sync, what was created or changed, or why the item was refused")
class SyncGradesPayload(_SyncPayload):
    item_type: ClassVar[type[_Synced]] = SyncedGrade
    applied: bool = strawberry.field(default=False, description=APPLIED)
    summary: SyncSummary | None = strawberry.field(
        default=None, description="The summary as it now is; null when the input was refused"
    )
    items: list[SyncedGrade] = strawberry.field(
        default_factory=list, description="Per item sent, in order, what was done"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="Per item of an attendance sync, what was created or changed, or why the item was refused")
class SyncAttendancePayload(_SyncPayload):
    item_type: ClassVar[type[_Synced]] = SyncedAttendance
    applied: bool = strawberry.field(default=False, description=APPLIED)
    summary: SyncSummary | None = strawberry.field(
        default=None, description="The summary as it now is; null when the input was refused"
    )
    items: list[SyncedAttendance] = strawberry.field(
        default_factory=list, description="Per item sent, in order, what was done"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


# --- inputs ----------------------------------------------------------------------------------


@strawberry.input(description="A lesson, by the sourcedIds of the school's systems")
class SyncLessonItem:
    sourced_id: str = strawberry.field(description="The lesson's own: created when new, updated when known")
    class_sourced_id: str = strawberry.field(description="The class's external ID")
    subject_sourced_id: str = strawberry.field(description="The subject's external ID")
    teacher_sourced_id: str = strawberry.field(
        description="The lesson's teacher, assigned to the class × subject; it does not change once created"
    )
    date: dt.date = strawberry.field(description="The day")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    end_time: dt.time = strawberry.field(description="When the lesson ends")
    lesson_number: int | None = strawberry.field(default=None, description="Number of the lesson in the school day")
    room: str | None = strawberry.field(default=None, description="The room, if set")
    topic: str | None = strawberry.field(default=None, description="The lesson's topic, if set")
    status: LessonStatus = strawberry.field(  # type: ignore[valid-type]
        default=enums.LessonStatus.SCHEDULED, description="CANCELLED cancels a known lesson (kept in the diary)"
    )
    substitute_teacher_sourced_id: str | None = strawberry.field(
        default=None, description="A teacher standing in; null: none"
    )
    allow_on_holiday: bool = strawberry.field(
        default=False, description="Hold it on a school holiday or a public day off (a make-up day)"
    )


@strawberry.input(description="Lessons of a school, created or updated by sourcedId, all or nothing")
class SyncLessonsInput:
    school_id: relay.GlobalID = node_id("School")
    items: list[SyncLessonItem] = strawberry.field(description=ITEMS)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="A grade at a lesson, by sourcedIds")
class SyncGradeItem:
    sourced_id: str = strawberry.field(description="The grade's own: entered when new, corrected when known")
    child_sourced_id: str = strawberry.field(description="The child's external ID")
    lesson_sourced_id: str = strawberry.field(description="The lesson's external ID")
    value: str = strawberry.field(description='"1" … "5", or "PASS" / "FAIL"')
    control_type: str | None = strawberry.field(
        default=None, description="The code of a control type of the school (TEST, QUIZ, ORAL, …); null: none"
    )
    comment: str | None = strawberry.field(default=None, description="A comment, if given")
    reason: str | None = strawberry.field(
        default=None, description="Why a known grade is corrected (kept in its history); a default one if null"
    )


@strawberry.input(description="Grades of a school, entered or corrected by sourcedId, all or nothing")
class SyncGradesInput:
    school_id: relay.GlobalID = node_id("School")
    items: list[SyncGradeItem] = strawberry.field(description=ITEMS)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="A child's attendance mark at a lesson, by sourcedIds")
class SyncAttendanceItem:
    sourced_id: str = strawberry.field(
        description="The mark's own: a new mark, or the child's mark at the lesson made by hand, is given it"
    )
    child_sourced_id: str = strawberry.field(description="The child's external ID")
    lesson_sourced_id: str = strawberry.field(description="The lesson's external ID")
    status: AttendanceStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the sync attendance item is in its life cycle"
    )
    minutes_late: int | None = strawberry.field(default=None, description="Required for LATE: 1 to 300")
    reason: str | None = strawberry.field(default=None, description="Why the child was absent or late, if given")


@strawberry.input(description="Attendance marks of a school, written by sourcedId, all or nothing")
class SyncAttendanceInput:
    school_id: relay.GlobalID = node_id("School")
    items: list[SyncAttendanceItem] = strawberry.field(description=ITEMS)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)
