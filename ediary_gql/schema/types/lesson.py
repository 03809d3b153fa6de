"""Lesson and TimetableTemplate: the schedule; their inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import Period as PeriodRow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.classes import Subject as SubjectRow
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.db.models.lessons import TimetableTemplate as TemplateRow
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import diary_visibility
from ediary_gql.schema.errors import UserError, UserErrorCode
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import Period
from ediary_gql.schema.types.school_class import SchoolClass
from ediary_gql.schema.types.subject import Subject
from ediary_gql.schema.types.user import User
from ediary_gql.services import lessons as service
from ediary_gql.services.lessons import data as lesson_data

if TYPE_CHECKING:
    from ediary_gql.context import Context

DEFAULT_ZONE = "Europe/Moscow"
LessonStatus = strawberry.enum(enums.LessonStatus, description="SCHEDULED, or CANCELLED (kept in the diary)")

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    return User.from_row(row) if row is not None else None


async def _subject(info: Info, subject_id: int) -> Subject | None:
    row = await info.context.loaders.by_id(SubjectRow).load(subject_id)
    return Subject.from_row(row) if row is not None else None


async def _class(info: Info, class_id: int) -> SchoolClass | None:
    row = await info.context.loaders.by_id(SchoolClassRow).load(class_id)
    return SchoolClass.from_row(row) if row is not None else None


async def _school_zone(info: Info, school_id: int) -> ZoneInfo:
    """The school's time zone: it decides what a lesson's date and times mean."""
    row = await info.context.loaders.by_id(SchoolRow).load(school_id)
    return ZoneInfo(row.timezone if row is not None else DEFAULT_ZONE)


@strawberry.type(name="Lesson", description="A lesson of a class in a subject, at a date and time")
class Lesson(EntityNode):
    model = LessonRow

    id: relay.NodeID[int]
    date: dt.date = strawberry.field(description="The day")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    end_time: dt.time = strawberry.field(description="When the lesson ends")
    lesson_number: int | None = strawberry.field(description="Number of the lesson in the school day")
    room: str | None = strawberry.field(description="The room, if set")
    topic: str | None = strawberry.field(description="The lesson's topic, if set")
    status: LessonStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the lesson is in its life cycle"
    )
    sourced_id: str | None = strawberry.field(description="The school's external ID (syncLessons)")
    _school_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _subject_id: strawberry.Private[int]
    _teacher_id: strawberry.Private[int]
    _substitute_teacher_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            date=row.date,
            start_time=row.start_time,
            end_time=row.end_time,
            lesson_number=row.lesson_number,
            room=row.room,
            topic=row.topic,
            status=enums.LessonStatus(row.status),
            sourced_id=row.external_id,
            _school_id=row.school_id,
            _class_id=row.class_id,
            _subject_id=row.subject_id,
            _teacher_id=row.teacher_id,
            _substitute_teacher_id=row.substitute_teacher_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await diary_visibility.may_view_lesson(context, row)

    @strawberry.field(description="The class")
    async def school_class(self, info: Info) -> SchoolClass | None:
        return await _class(info, self._class_id)

    @strawberry.field(description="The subject")
    async def subject(self, info: Info) -> Subject | None:
        return await _subject(info, self._subject_id)

    @strawberry.field(description="The class's teacher of this subject")
    async def teacher(self, info: Info) -> User | None:
        return await _user(info, self._teacher_id)

    @strawberry.field(description="When the lesson starts, with the school's time zone")
    async def starts_at(self, info: Info) -> dt.datetime:
        return dt.datetime.combine(self.date, self.start_time, tzinfo=await _school_zone(info, self._school_id))

    @strawberry.field(description="When the lesson ends, with the school's time zone")
    async def ends_at(self, info: Info) -> dt.datetime:
        return dt.datetime.combine(self.date, self.end_time, tzinfo=await _school_zone(info, self._school_id))

    @strawberry.field(description="Who stands in for the teacher, if anyone")
    async def substitute_teacher(self, info: Info) -> User | None:
        return await _user(info, self._substitute_teacher_id)


@strawberry.type(description="One weekly slot of a timetable template")
class TimetableSlot:
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday … 7 = Sunday")
    lesson_number: int = strawberry.field(description="Number of the lesson in the school day")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    end_time: dt.time = strawberry.field(description="When the lesson ends")
    room: str | None = strawberry.field(description="The room, if set")
    _subject_id: strawberry.Private[int]
    _teacher_id: strawberry.Private[int]

    @strawberry.field(description="The slot's subject")
    async def subject(self, info: Info) -> Subject | None:
        return await _subject(info, self._subject_id)

    @strawberry.field(description="The slot's teacher")
    async def teacher(self, info: Info) -> User | None:
        return await _user(info, self._teacher_id)


@strawberry.type(name="TimetableTemplate", description="A class's weekly timetable for a period")
class TimetableTemplate(EntityNode):
    model = TemplateRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    created_at: dt.datetime = strawberry.field(description="When the timetable template was created")
    _school_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _period_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            created_at=row.created_at,
            _school_id=row.school_id,
            _class_id=row.class_id,
            _period_id=row.period_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        # the school's staff; families read the lessons made from it
        return policy.can_view_lesson(context.actor, school_id=row.school_id, class_child_ids=frozenset())

    @strawberry.field(description="The class")
    async def school_class(self, info: Info) -> SchoolClass | None:
        return await _class(info, self._class_id)

    @strawberry.field(description="The period lessons are generated in")
    async def period(self, info: Info) -> Period | None:
        row = await info.context.loaders.by_id(PeriodRow).load(self._period_id)
        return Period.from_row(row) if row is not None else None

    @strawberry.field(description="The weekly slots, Monday first")
    async def slots(self, info: Info) -> list[TimetableSlot]:
        loader = info.context.loaders.grouped(service.template_slots)
        return [
            TimetableSlot(
                weekday=r.weekday,
                lesson_number=r.lesson_number,
                start_time=r.start_time,
                end_time=r.end_time,
                room=r.room,
                _subject_id=r.subject_id,
                _teacher_id=r.teacher_id,
            )
            for r in await loader.load(self.id)
        ]


# --- inputs and payloads ----------------------------------------------------


@strawberry.input(description="A lesson made by hand")
class CreateLessonInput:
    class_id: relay.GlobalID = node_id("SchoolClass")
    subject_id: relay.GlobalID = node_id("Subject")
    date: dt.date = strawberry.field(description="The day")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    end_time: dt.time = strawberry.field(description="When the lesson ends")
    teacher_id: relay.GlobalID | None = node_id("User", default=None, description="Default: you")
    lesson_number: int | None = strawberry.field(default=None, description="Number of the lesson in the school day")
    room: str | None = strawberry.field(default=None, description="The room, if set")
    topic: str | None = strawberry.field(default=None, description="The lesson's topic, if set")
    allow_on_holiday: bool = strawberry.field(
        default=False, description="Hold it on a school holiday or a public day off (a make-up day)"
    )


@strawberry.input(description="Change a lesson: give only the fields to change; null clears an optional one")
class UpdateLessonInput:
    lesson_id: relay.GlobalID = node_id("Lesson")
    date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New date; omit to keep")
    start_time: dt.time | None = strawberry.field(default=strawberry.UNSET, description="New start time; omit to keep")
    end_time: dt.time | None = strawberry.field(default=strawberry.UNSET, description="New end time; omit to keep")
    lesson_number: int | None = strawberry.field(
        default=strawberry.UNSET, description="New number in the school day; omit to keep"
    )
    room: str | None = strawberry.field(default=strawberry.UNSET, description="New room; omit to keep")
    topic: str | None = strawberry.field(default=strawberry.UNSET, description="New topic; omit to keep")
    status: LessonStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="SCHEDULED or CANCELLED; omit to keep"
    )
    substitute_teacher_id: relay.GlobalID | None = node_id(
        "User", default=strawberry.UNSET, description="A teacher standing in; null removes the substitute"
    )
    allow_on_holiday: bool = strawberry.field(
        default=False, description="Move it to (or restore it on) a school holiday or a public day off (a make-up day)"
    )


@strawberry.type(description="The lesson after the change, or why it was refused")
class LessonPayload(Payload):
    lesson: Lesson | None = strawberry.field(
        default=None, description="The lesson as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="One weekly slot")
class TimetableSlotInput:
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday … 7 = Sunday")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    end_time: dt.time = strawberry.field(description="When the lesson ends")
    subject_id: relay.GlobalID = node_id("Subject")
    teacher_id: relay.GlobalID = node_id("User")
    lesson_number: int = strawberry.field(default=0, description="Number of the lesson in the school day")
    room: str | None = strawberry.field(default=None, description="The room, if set")


@strawberry.input(description="A class's weekly timetable for a period")
class CreateTimetableTemplateInput:
    class_id: relay.GlobalID = node_id("SchoolClass")
    period_id: relay.GlobalID = node_id("Period")
    name: str = strawberry.field(description="The name people see")
    slots: list[TimetableSlotInput] = strawberry.field(description="The week's lessons")


@strawberry.type(description="The weekly timetable template, or why it was refused")
class TimetableTemplatePayload(Payload):
    template: TimetableTemplate | None = strawberry.field(
        default=None, description="The template as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="Make the lessons of a template's weekly slots over a date range of its period")
class GenerateLessonsInput:
    template_id: relay.GlobalID = node_id("TimetableTemplate")
    from_: dt.date = strawberry.field(name="from", description="First day to generate, inclusive")
    to: dt.date = strawberry.field(description="Last day to generate, inclusive")


@strawberry.type(description="A lesson generateLessons did not make because it would double-book")
class SkippedLesson:
    date: dt.date = strawberry.field(description="The day")
    start_time: dt.time = strawberry.field(description="When the lesson starts")
    code: UserErrorCode = strawberry.field(description="Why it was skipped, as a code")  # type: ignore[valid-type]
    message: str = strawberry.field(description="Why it was skipped, for people")
    _conflicting_lesson_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, skipped: lesson_data.SkippedLesson) -> Self:
        return cls(
            date=skipped.date,
            start_time=skipped.start_time,
            code=skipped.code,
            message=skipped.message,
            _conflicting_lesson_id=skipped.conflicting_lesson_id,
        )

    @strawberry.field(description="The lesson in the way")
    async def conflicting_lesson(self, info: Info) -> Lesson | None:
        if self._conflicting_lesson_id is None:
            return None
        row = await info.context.loaders.by_id(LessonRow).load(self._conflicting_lesson_id)
        return Lesson.from_row(row) if row is not None and await Lesson.visible(info.context, row) else None


@strawberry.type(description="The lessons generated from a timetable template, or why they were refused")
class GenerateLessonsPayload(Payload):
    lessons: list[Lesson] = strawberry.field(default_factory=list, description="The lessons made now")
    already_present_count: int = strawberry.field(default=0, description="Slots whose lesson was made before")
    skipped: list[SkippedLesson] = strawberry.field(
        default_factory=list, description="Slots not made into lessons, each with why"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: lesson_data.GenerationResult) -> Self:
        return cls(
            lessons=[Lesson.from_row(row) for row in result.created],
            already_present_count=result.already_present,
            skipped=[SkippedLesson.of(s) for s in result.skipped],
        )
