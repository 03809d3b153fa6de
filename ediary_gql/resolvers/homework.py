"""Homework: assignHomework and markHomeworkDone. Inputs come decoded (schema/ids.py);
results are rows, turned into types by schema/homework.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.homework import Homework
from ediary_gql.services import homework as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for


@dataclasses.dataclass(frozen=True, slots=True)
class HomeworkMarked:
    """A homework marked done (or not) for a child."""

    homework: Homework
    done: bool


async def assign_homework(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    lesson_id: int,
    text: str,
    due_on: dt.date,
    expected_minutes: int | None,
    attachment_ids: list[int],
    files: list[Any],
) -> Homework:
    data = service.HomeworkData(
        lesson_id=lesson_id,
        text=text,
        due_on=due_on,
        expected_minutes=expected_minutes,
        attachment_ids=attachment_ids,
        files=[UploadedFile.of(f) for f in files],
    )
    return await service.assign_homework(
        session, actor=actor, data=data, storage=storage_for(ctx.settings.upload_dir), settings=ctx.settings
    )


async def mark_homework_done(
    ctx: Context, session: AsyncSession, actor: Actor, *, homework_id: int, child_id: int, done: bool
) -> HomeworkMarked:
    row = await service.mark_homework_done(session, actor=actor, homework_id=homework_id, child_id=child_id, done=done)
    return HomeworkMarked(homework=row, done=done)
