"""Homework given at a lesson; inputs and payloads of assignHomework and markHomeworkDone."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.auth import policy
from ediary_gql.db.models.homework import Homework as HomeworkRow
from ediary_gql.db.models.lessons import Lesson as LessonRow
from ediary_gql.resolvers import diary_visibility
from ediary_gql.resolvers.homework import HomeworkMarked
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.services import homework as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info


async def _completions(session: Any, ids: list[int]) -> list[tuple[int, service.Completion]]:
    return [(c.homework_id, c) for c in await service.completions(session, ids)]


@strawberry.type(description="How many children of the class have done a homework")
class HomeworkCompletion:
    done: int = strawberry.field(description="Whether the homework is done")
    total: int = strawberry.field(description="Children enrolled in the class on the lesson's date")


@strawberry.type(name="Homework", description="Homework given at a lesson")
class Homework(EntityNode):
    model = HomeworkRow

    id: relay.NodeID[int]
    text: str = strawberry.field(description="The text as written")
    published_on: dt.date = strawberry.field(description="The day it was given")
    due_on: dt.date = strawberry.field(description="The day it is due")
    expected_minutes: int | None = strawberry.field(description="Expected volume, in minutes")
    _lesson_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _subject_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            text=row.text,
            published_on=row.published_on,
            due_on=row.due_on,
            expected_minutes=row.expected_minutes,
            _lesson_id=row.lesson_id,
            _class_id=row.class_id,
            _subject_id=row.subject_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        lesson = await context.loaders.by_id(LessonRow).load(row.lesson_id)
        return lesson is not None and await diary_visibility.may_view_lesson(context, lesson)

    @strawberry.field(description="The lesson it was given at")
    async def lesson(self, info: Info) -> Lesson | None:
        row = await info.context.loaders.by_id(LessonRow).load(self._lesson_id)
        return Lesson.from_row(row) if row is not None else None

    @strawberry.field(description="Files attached to the homework")
    async def attachments(self, info: Info) -> list[Attachment]:
        loader = info.context.loaders.grouped(service.attachments)
        return [Attachment.from_row(r) for r in await loader.load(self.id)]

    @strawberry.field(description="Done / enrolled, for the class's teacher and the school's admins; null for others")
    async def completion(self, info: Info) -> HomeworkCompletion | None:
        ctx = info.context
        school_id = await diary_visibility.school_of_class(ctx.loaders, self._class_id)
        teaches = await diary_visibility.teaches(ctx, ctx.loaders, self._class_id, self._subject_id)
        if not policy.can_write_diary(ctx.actor, school_id=school_id, assigned=teaches):
            return None
        loader = ctx.loaders.grouped(_completions)
        found = await loader.load(self.id)
        return HomeworkCompletion(done=found[0].done, total=found[0].total) if found else None


@strawberry.input(description="Homework for a lesson (class and subject are the lesson's)")
class AssignHomeworkInput:
    lesson_id: relay.GlobalID = node_id("Lesson")
    text: str = strawberry.field(description="The text as written")
    due_on: dt.date = strawberry.field(description="Not before the lesson's date")
    expected_minutes: int | None = strawberry.field(default=None, description="Expected volume, 1 to 600 minutes")
    attachment_ids: list[relay.GlobalID] = node_id(
        "Attachment",
        default_factory=list,
        description="Files you uploaded before (e.g. with an earlier homework), by ID",
    )
    files: list[Upload] = strawberry.field(
        default_factory=list,
        description="New files, sent with this request as a multipart upload: PDF, JPG or PNG; "
        "at most 10 files with attachmentIds",
    )


@strawberry.input(description="Mark a homework done (or not) for a child: by the child or their guardian")
class MarkHomeworkDoneInput:
    homework_id: relay.GlobalID = node_id("Homework")
    child_id: relay.GlobalID = node_id("Child")
    done: bool = strawberry.field(default=True, description="Done (true) or not done after all (false)")


@strawberry.type(description="The homework after the change, or why it was refused")
class HomeworkPayload(Payload):
    homework: Homework | None = strawberry.field(
        default=None, description="The homework as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The homework with the child's completion mark, or why it was refused")
class MarkHomeworkDonePayload(Payload):
    homework: Homework | None = strawberry.field(
        default=None, description="The homework as it now is; null when the input was refused"
    )
    done: bool | None = strawberry.field(
        default=None, description="Whether the homework is now marked done; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: HomeworkMarked) -> Self:
        return cls(homework=Homework.from_row(result.homework), done=result.done)
