"""Resolvers of homework: assignHomework and markHomeworkDone."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.diary_access import IdReader
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.types.homework import (
    AssignHomeworkInput,
    Homework,
    HomeworkPayload,
    MarkHomeworkDoneInput,
    MarkHomeworkDonePayload,
)
from ediary_gql.services import homework as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

Info = strawberry.Info[Context, None]


async def assign_homework(info: Info, input: AssignHomeworkInput) -> HomeworkPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        data = service.HomeworkData(
            lesson_id=ids.pk(input.lesson_id, "Lesson", "lessonId"),
            text=input.text,
            due_on=input.due_on,
            expected_minutes=input.expected_minutes,
            attachment_ids=[
                ids.pk(a, "Attachment", ("attachmentIds", str(i))) for i, a in enumerate(input.attachment_ids)
            ],
            files=[UploadedFile(name=getattr(f, "filename", None), stream=f) for f in input.files],
        )
        ids.done()
        async with transaction(ctx) as session:
            row = await service.assign_homework(
                session, actor=actor, data=data, storage=storage_for(ctx.settings.upload_dir), settings=ctx.settings
            )
    except DomainError as exc:
        return HomeworkPayload(user_errors=user_errors(exc))
    return HomeworkPayload(homework=Homework.from_row(row))


async def mark_homework_done(info: Info, input: MarkHomeworkDoneInput) -> MarkHomeworkDonePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        ids = IdReader()
        homework_id = ids.pk(input.homework_id, "Homework", "homeworkId")
        child_id = ids.pk(input.child_id, "Child", "childId")
        ids.done()
        async with transaction(ctx) as session:
            row = await service.mark_homework_done(
                session, actor=actor, homework_id=homework_id, child_id=child_id, done=input.done
            )
    except DomainError as exc:
        return MarkHomeworkDonePayload(user_errors=user_errors(exc))
    return MarkHomeworkDonePayload(homework=Homework.from_row(row), done=input.done)
