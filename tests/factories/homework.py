"""Homework, its files and completions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.homework import Homework, HomeworkAttachment, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson
from tests.factories._base import fake, now, persist, take_parents
from tests.factories.attachments import make_attachment
from tests.factories.children import make_enrolled_child
from tests.factories.lessons import make_lesson
from tests.factories.users import make_user


async def make_homework(session: AsyncSession, **overrides: Any) -> Homework:
    """Given at the lesson (made if not given) by its teacher, due two days later."""
    o = take_parents(overrides)
    if "lesson_id" not in o:
        o["lesson_id"] = (await make_lesson(session)).id
    lesson = await session.get(Lesson, o["lesson_id"])
    assert lesson is not None
    fields: dict[str, Any] = {
        "school_id": lesson.school_id,
        "class_id": lesson.class_id,
        "subject_id": lesson.subject_id,
        "created_by_id": lesson.teacher_id,
        "text": (f"§ {fake.random_int(1, 40)}, упр. {fake.random_int(1, 600)}, {fake.random_int(1, 600)}"),
        "published_on": lesson.date,
        "due_on": lesson.date + dt.timedelta(days=2),
        "expected_minutes": 30,
    }
    fields.update(o)
    return await persist(session, Homework(**fields))


async def make_homework_attachment(session: AsyncSession, **overrides: Any) -> HomeworkAttachment:
    o = take_parents(overrides)
    if "homework_id" not in o:
        o["homework_id"] = (await make_homework(session)).id
    homework = await session.get(Homework, o["homework_id"])
    assert homework is not None
    if "attachment_id" not in o:
        o["attachment_id"] = (await make_attachment(session, owner_id=homework.created_by_id)).id
    fields: dict[str, Any] = {"school_id": homework.school_id}
    fields.update(o)
    return await persist(session, HomeworkAttachment(**fields))


async def make_homework_completion(session: AsyncSession, **overrides: Any) -> HomeworkCompletion:
    """Done by a child of the homework's class (made and enrolled if not given)."""
    o = take_parents(overrides)
    if "homework_id" not in o:
        o["homework_id"] = (await make_homework(session)).id
    homework = await session.get(Homework, o["homework_id"])
    assert homework is not None
    if "child_id" not in o:
        o["child_id"] = (await make_enrolled_child(session, class_id=homework.class_id)).id
    if "marked_by_id" not in o:
        o["marked_by_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"school_id": homework.school_id, "done_at": now()}
    fields.update(o)
    return await persist(session, HomeworkCompletion(**fields))
