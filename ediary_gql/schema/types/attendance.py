"""Attendance marks; inputs and payloads of markAttendance; the live feed and summary."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.attendance import Attendance as AttendanceRow
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import diary_visibility, sync
from ediary_gql.resolvers.attendance import DaySummary, LessonMarks
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.schema.types.school_class import Child
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context

AttendanceStatus = strawberry.enum(enums.AttendanceStatus, description="A child's presence at a lesson")

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info


@strawberry.type(name="Attendance", description="A child's attendance mark at a lesson")
class Attendance(EntityNode):
    model = AttendanceRow

    id: relay.NodeID[int]
    status: AttendanceStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the attendance is in its life cycle"
    )
    minutes_late: int | None = strawberry.field(description="Minutes late, when LATE")
    reason: str | None = strawberry.field(description="Why the child was absent or late, if given")
    marked_at: dt.datetime = strawberry.field(description="When the current status was set")
    _child_id: strawberry.Private[int]
    _lesson_id: strawberry.Private[int]
    _marked_by_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            status=enums.AttendanceStatus(row.status),
            minutes_late=row.minutes_late,
            reason=row.reason,
            marked_at=row.marked_at,
            _child_id=row.child_id,
            _lesson_id=row.lesson_id,
            _marked_by_id=row.marked_by_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        lesson = await context.loaders.by_id(LessonRow).load(row.lesson_id)
        if lesson is None:
            return False
        return await diary_visibility.may_view_child_record(
            context, child_id=row.child_id, class_id=lesson.class_id, subject_id=None
        )

    @strawberry.field(description="The school's external ID of the mark (syncAttendance); null if it has none")
    async def sourced_id(self, info: Info) -> str | None:
        return await sync.attendance_sourced_id(info.context, self.id)

    @strawberry.field(description="The child marked")
    async def child(self, info: Info) -> Child | None:
        row = await info.context.loaders.by_id(ChildRow).load(self._child_id)
        return Child.from_row(row) if row is not None else None

    @strawberry.field(description="The lesson marked at")
    async def lesson(self, info: Info) -> Lesson | None:
        row = await info.context.loaders.by_id(LessonRow).load(self._lesson_id)
        return Lesson.from_row(row) if row is not None else None

    @strawberry.field(description="Who set the current status")
    async def marked_by(self, info: Info) -> User | None:
        row = await info.context.loaders.by_id(UserRow).load(self._marked_by_id)
        return User.from_row(row) if row is not None else None


@strawberry.input(description="One child's mark")
class AttendanceMarkInput:
    child_id: relay.GlobalID = node_id("Child")
    status: AttendanceStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the attendance mark is in its life cycle"
    )
    minutes_late: int | None = strawberry.field(default=None, description="Required for LATE: 1 to 300")
    reason: str | None = strawberry.field(default=None, description="Why the child was absent or late, if given")


@strawberry.input(description="Marks for a lesson in one call; children left out keep what they had")
class MarkAttendanceInput:
    lesson_id: relay.GlobalID = node_id("Lesson")
    marks: list[AttendanceMarkInput] = strawberry.field(description="A mark per child")


@strawberry.type(description="A lesson and all its attendance marks")
class LessonAttendance:
    lesson: Lesson = strawberry.field(description="The lesson")
    marks: list[Attendance] = strawberry.field(description="Its attendance marks")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, found: LessonMarks, cursor: str) -> Self:
        return cls(
            lesson=Lesson.from_row(found.lesson), marks=[Attendance.from_row(m) for m in found.marks], cursor=cursor
        )


@strawberry.type(description="The attendance marks as stored, or why they were refused")
class MarkAttendancePayload(Payload):
    lesson: Lesson | None = strawberry.field(
        default=None, description="The lesson as it now is; null when the input was refused"
    )
    marks: list[Attendance] = strawberry.field(default_factory=list, description="Every mark of the lesson")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: LessonMarks) -> Self:
        return cls(lesson=Lesson.from_row(result.lesson), marks=[Attendance.from_row(m) for m in result.marks])


@strawberry.type(description="Counts by status; unmarked = children × lessons of the day − marks")
class AttendanceCounts:
    present: int = strawberry.field(description="How many were present")
    absent: int = strawberry.field(description="How many were absent without a reason given")
    late: int = strawberry.field(description="How many came late")
    excused: int = strawberry.field(description="How many were absent for a valid reason")
    sick: int = strawberry.field(description="How many were ill")
    unmarked: int = strawberry.field(description="How many have no mark yet")


@strawberry.type(description="A class's attendance on a day, across its scheduled lessons")
class AttendanceSummary:
    class_id: relay.GlobalID = strawberry.field(description="The class")
    date: dt.date = strawberry.field(description="The day")
    counts: AttendanceCounts = strawberry.field(description="The class's marks of the day by status")
    lessons: int = strawberry.field(description="Scheduled lessons of the class that day")
    children: int = strawberry.field(description="Children enrolled that day")
    updated_at: dt.datetime = strawberry.field(description="When the attendance summary was last changed")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, day: DaySummary, cursor: str) -> Self:
        found = day.summary
        counts = found.counts
        return cls(
            class_id=relay.GlobalID("SchoolClass", str(found.class_id)),
            date=found.date,
            counts=AttendanceCounts(
                present=counts.get(enums.AttendanceStatus.PRESENT, 0),
                absent=counts.get(enums.AttendanceStatus.ABSENT, 0),
                late=counts.get(enums.AttendanceStatus.LATE, 0),
                excused=counts.get(enums.AttendanceStatus.EXCUSED, 0),
                sick=counts.get(enums.AttendanceStatus.SICK, 0),
                unmarked=counts.get("unmarked", 0),
            ),
            lessons=found.lessons,
            children=found.children,
            updated_at=day.updated_at,
            cursor=cursor,
        )
