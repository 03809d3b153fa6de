"""Grade and its history (GradeRevision); inputs and payloads of grade writes; the
gradeEvents message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import Period as PeriodRow
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.classes import Subject as SubjectRow
from ediary_gql.db.models.grades import ControlType as ControlTypeRow
from ediary_gql.db.models.grades import Grade as GradeRow
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import diary_visibility, sync
from ediary_gql.resolvers.grades import GradeChange
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import Period
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.schema.types.school_class import Child
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.subject import ControlType, Subject
from ediary_gql.schema.types.user import User
from ediary_gql.services import grades as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

GradeKind = strawberry.enum(
    enums.GradeKind, description="REGULAR (at a lesson), PERIOD_FINAL (for a period) or YEAR_FINAL"
)
GradeAction = strawberry.enum(enums.GradeAction, description="What happened to a grade")

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info


async def _user(info: Info, user_id: int) -> User | None:
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    return User.from_row(row) if row is not None else None


@strawberry.type(name="Grade", description="A mark of a child in a subject")
class Grade(EntityNode):
    model = GradeRow

    id: relay.NodeID[int]
    value: str = strawberry.field(description='"1" … "5", or "PASS" / "FAIL"')
    numeric_value: int | None = strawberry.field(description="The mark as a number; null for pass/fail")
    kind: GradeKind = strawberry.field(description="What kind of grade it is")  # type: ignore[valid-type]
    weight: Decimal = strawberry.field(description="The control type's weight when the grade was entered")
    comment: str | None = strawberry.field(description="A comment, if given")
    graded_on: dt.date = strawberry.field(description="The day the grade is for")
    is_deleted: bool = strawberry.field(description="Deleted grades keep their history and leave every average")
    _child_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _subject_id: strawberry.Private[int]
    _lesson_id: strawberry.Private[int | None]
    _teacher_id: strawberry.Private[int]
    _control_type_id: strawberry.Private[int | None]
    _period_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            value=row.value,
            numeric_value=row.numeric_value,
            kind=enums.GradeKind(row.kind),
            weight=row.weight,
            comment=row.comment,
            graded_on=row.graded_on,
            is_deleted=row.deleted_at is not None,
            _child_id=row.child_id,
            _class_id=row.class_id,
            _subject_id=row.subject_id,
            _lesson_id=row.lesson_id,
            _teacher_id=row.teacher_id,
            _control_type_id=row.control_type_id,
            _period_id=row.period_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await diary_visibility.may_view_child_record(
            context, child_id=row.child_id, class_id=row.class_id, subject_id=row.subject_id
        )

    @strawberry.field(description="The school's external ID of the grade (syncGrades); null if it has none")
    async def sourced_id(self, info: Info) -> str | None:
        return await sync.grade_sourced_id(info.context, self.id)

    @strawberry.field(description="Whose grade it is")
    async def child(self, info: Info) -> Child | None:
        row = await info.context.loaders.by_id(ChildRow).load(self._child_id)
        return Child.from_row(row) if row is not None else None

    @strawberry.field(description="The subject the grade is in")
    async def subject(self, info: Info) -> Subject | None:
        row = await info.context.loaders.by_id(SubjectRow).load(self._subject_id)
        return Subject.from_row(row) if row is not None else None

    @strawberry.field(description="Who entered it")
    async def teacher(self, info: Info) -> User | None:
        return await _user(info, self._teacher_id)

    @strawberry.field(description="The lesson it was given at; null for final grades")
    async def lesson(self, info: Info) -> Lesson | None:
        if self._lesson_id is None:
            return None
        row = await info.context.loaders.by_id(LessonRow).load(self._lesson_id)
        return Lesson.from_row(row) if row is not None else None

    @strawberry.field(description="The period it counts in")
    async def period(self, info: Info) -> Period | None:
        if self._period_id is None:
            return None
        row = await info.context.loaders.by_id(PeriodRow).load(self._period_id)
        return Period.from_row(row) if row is not None else None

    @strawberry.field(description="The kind of work (контрольная, устный ответ …); its weight is copied to the grade")
    async def control_type(self, info: Info) -> ControlType | None:
        if self._control_type_id is None:
            return None
        row = await info.context.loaders.by_id(ControlTypeRow).load(self._control_type_id)
        return ControlType.from_row(row) if row is not None else None

    @strawberry.field(description="Every change, oldest first")
    async def history(self, info: Info) -> list[GradeRevision]:
        loader = info.context.loaders.grouped(service.revisions)
        return [GradeRevision.from_row(r) for r in await loader.load(self.id)]


@strawberry.type(name="GradeRevision", description="One step of a grade's history")
class GradeRevision:
    action: GradeAction = strawberry.field(description="What was done to the grade")  # type: ignore[valid-type]
    old_value: str | None = strawberry.field(description="The value before the change")
    new_value: str | None = strawberry.field(description="The value after the change")
    old_comment: str | None = strawberry.field(description="The comment before the change")
    new_comment: str | None = strawberry.field(description="The comment after the change")
    reason: str | None = strawberry.field(description="Why the grade was changed, as the teacher gave it")
    changed_at: dt.datetime = strawberry.field(description="When the change was made")
    _changed_by_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            action=enums.GradeAction(row.action),
            old_value=row.old_value,
            new_value=row.new_value,
            old_comment=row.old_comment,
            new_comment=row.new_comment,
            reason=row.reason,
            changed_at=row.changed_at,
            _changed_by_id=row.changed_by_id,
        )

    @strawberry.field(description="Who made the change")
    async def changed_by(self, info: Info) -> User | None:
        return await _user(info, self._changed_by_id)


# --- inputs, payloads, events -------------------------------------------------


@strawberry.input(
    description="A grade: REGULAR needs lessonId; PERIOD_FINAL subjectId and periodId; YEAR_FINAL subjectId and classId"
)
class EnterGradeInput:
    child_id: relay.GlobalID = node_id("Child")
    value: str = strawberry.field(description='"1" … "5", or "PASS" / "FAIL"')
    kind: GradeKind = strawberry.field(  # type: ignore[valid-type]
        default=enums.GradeKind.REGULAR, description="A grade at a lesson, or a period's or the year's final grade"
    )
    lesson_id: relay.GlobalID | None = node_id("Lesson", default=None)
    subject_id: relay.GlobalID | None = node_id("Subject", default=None)
    period_id: relay.GlobalID | None = node_id("Period", default=None)
    class_id: relay.GlobalID | None = node_id("SchoolClass", default=None)
    control_type_id: relay.GlobalID | None = node_id("ControlType", default=None)
    comment: str | None = strawberry.field(default=None, description="A comment, if given")


@strawberry.input(description="Correct a grade; the reason is required and the old value is kept in its history")
class CorrectGradeInput:
    grade_id: relay.GlobalID = node_id("Grade")
    reason: str = strawberry.field(description="Why the grade is corrected")
    value: str | None = strawberry.field(default=None, description="Omit to keep the value")
    comment: str | None = strawberry.field(default=None, description='Omit to keep; "" clears it')
    control_type_id: relay.GlobalID | None = node_id("ControlType", default=None, description="Omit to keep")


@strawberry.input(description="Delete a grade (it stays in history, out of every average)")
class DeleteGradeInput:
    grade_id: relay.GlobalID = node_id("Grade")
    reason: str = strawberry.field(description="Why the grade is deleted")


@strawberry.type(description="The grade after the change, or why it was refused")
class GradePayload(Payload):
    grade: Grade | None = strawberry.field(
        default=None, description="The grade as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="A grade of the child was created, corrected or deleted")
class GradeEvent:
    action: GradeAction = strawberry.field(description="What happened to the grade")  # type: ignore[valid-type]
    grade: Grade = strawberry.field(description="The grade as it now is")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, change: GradeChange, cursor: str) -> Self:
        return cls(action=change.action, grade=Grade.from_row(change.grade), cursor=cursor)
