"""Homework: given at a lesson by its teacher, marked done by the student or a
guardian, its completion counted for the teacher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.homework import Homework, HomeworkAttachment, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import ErrorCode, ErrorCollector, not_found
from ediary_gql.services import audit, diary_facts, record_notices
from ediary_gql.services import changes as change_feed
from ediary_gql.services.attachments import UploadedFile, collect_attachment
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

TEXT_MAX = 10_000
MINUTES_MAX = 600
ATTACHMENTS_MAX = 10


@dataclass(frozen=True, slots=True)
class HomeworkData:
    lesson_id: int
    text: str
    due_on: dt.date
    expected_minutes: int | None = None
    attachment_ids: Sequence[int] = field(default_factory=tuple)
    # new files, uploaded with the request itself
    files: Sequence[UploadedFile] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Completion:
    homework_id: int
    done: int
    total: int


async def assign_homework(
    session: AsyncSession, *, actor: Actor, data: HomeworkData, storage: Storage, settings: Settings
) -> Homework:
    """Homework for a lesson, by its teacher (or substitute) or a school admin: the files
    attached are the actor's earlier uploads (`attachment_ids`) and those sent with it
    (`files`), all checked with the other fields; a refused homework keeps no new file."""
    lesson, _ = await diary_facts.lesson_to_write(
        session, actor=actor, lesson_id=data.lesson_id, substitute_may_write=True
    )
    errors = ErrorCollector()
    text = (data.text or "").strip()
    if not text:
        errors.add("text", ErrorCode.REQUIRED, "Напишите задание")
    elif len(text) > TEXT_MAX:
        errors.add("text", ErrorCode.TOO_LONG, f"Задание — не длиннее {TEXT_MAX} символов")
    if data.due_on < lesson.date:
        errors.add("dueOn", ErrorCode.INVALID, f"Срок сдачи не может быть раньше урока ({lesson.date:%d.%m.%Y})")
    if data.expected_minutes is not None and not 1 <= data.expected_minutes <= MINUTES_MAX:
        errors.add("expectedMinutes", ErrorCode.INVALID, f"Ожидаемое время — от 1 до {MINUTES_MAX} минут")
    wanted = list(dict.fromkeys(data.attachment_ids))
    if len(wanted) + len(data.files) > ATTACHMENTS_MAX:
        too_many = "files" if data.files else "attachmentIds"
        errors.add(too_many, ErrorCode.INVALID, f"Не больше {ATTACHMENTS_MAX} файлов к заданию")
    own = (
        set(
            (
                await session.scalars(
                    select(Attachment.id).where(Attachment.id.in_(wanted), Attachment.owner_id == actor.user_id)
                )
            ).all()
        )
        if wanted
        else set()
    )
    for i, attachment_id in enumerate(data.attachment_ids):
        if attachment_id not in own:
            errors.add(("attachmentIds", str(i)), ErrorCode.NOT_FOUND, "Файл не найден среди ваших загрузок")
    if len(data.files) <= ATTACHMENTS_MAX:  # each file checked, so every problem is told at once
        for i, upload in enumerate(data.files):
            stored = await collect_attachment(
                session,
                errors,
                actor=actor,
                upload_name=upload.name,
                stream=upload.stream,
                storage=storage,
                settings=settings,
                field=("files", str(i)),
            )
            if stored is not None:
                wanted.append(stored.id)
    errors.raise_if_any()

    homework = Homework(
        school_id=lesson.school_id,
        lesson_id=lesson.id,
        class_id=lesson.class_id,
        subject_id=lesson.subject_id,
        text=text,
        published_on=lesson.date,
        due_on=data.due_on,
        expected_minutes=data.expected_minutes,
        created_by_id=actor.user_id,
    )
    session.add(homework)
    await session.flush()
    session.add_all(
        HomeworkAttachment(school_id=homework.school_id, homework_id=homework.id, attachment_id=a) for a in wanted
    )
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="assignHomework",
        entity_type="Homework",
        entity_id=homework.id,
        after={"lesson_id": lesson.id, "due_on": data.due_on.isoformat(), "attachments": wanted},
        school_id=lesson.school_id,
    )
    record_notices.homework_given(session, actor_user_id=actor.user_id, homework=homework, lesson=lesson)
    change_feed.record(
        session, school_id=lesson.school_id, type=ChangeType.HOMEWORK, ids=[homework.id], action=ChangeAction.CREATED
    )
    return homework


async def mark_homework_done(
    session: AsyncSession, *, actor: Actor, homework_id: int, child_id: int, done: bool
) -> Homework:
    """The student or their guardian marks (or unmarks) a homework as done for the child."""
    # locked: a double click serializes instead of colliding on (homework, child)
    homework = await session.get(Homework, homework_id, with_for_update=True)
    if homework is None:
        raise not_found("homeworkId", "Задание не найдено")
    policy.ensure(
        policy.can_mark_homework_done(actor, child_id=child_id),
        "Отметить задание выполненным могут только ученик и его законный представитель",
    )
    lesson = await session.get(Lesson, homework.lesson_id)
    assert lesson is not None  # noqa: S101 - a foreign key
    if child_id not in await diary_facts.enrolled(
        session, class_id=homework.class_id, date=lesson.date, child_ids=[child_id]
    ):
        raise not_found("childId", "Это задание не задавалось ученику")
    existing = await session.scalar(
        select(HomeworkCompletion).where(
            HomeworkCompletion.homework_id == homework.id, HomeworkCompletion.child_id == child_id
        )
    )
    if done and existing is None:
        session.add(
            HomeworkCompletion(
                school_id=homework.school_id, homework_id=homework.id, child_id=child_id, marked_by_id=actor.user_id
            )
        )
    elif not done and existing is not None:
        await session.delete(existing)
    else:
        return homework  # already so
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="markHomeworkDone",
        entity_type="Homework",
        entity_id=homework.id,
        after={"child_id": child_id, "done": done},
        school_id=lesson.school_id,
    )
    return homework


async def completions(session: AsyncSession, homework_ids: list[int]) -> list[Completion]:
    """Per homework: children enrolled in its class on its lesson's date, and how many
    of them have done it. One statement for any number of homeworks."""
    if not homework_ids:
        return []
    rows = await session.execute(
        select(Homework.id, func.count(Enrollment.id), func.count(HomeworkCompletion.id))
        .join(Lesson, Lesson.id == Homework.lesson_id)
        .outerjoin(
            Enrollment,
            and_(Enrollment.class_id == Homework.class_id, *diary_facts.enrolled_on_column(Lesson.date)),
        )
        .outerjoin(
            HomeworkCompletion,
            and_(HomeworkCompletion.homework_id == Homework.id, HomeworkCompletion.child_id == Enrollment.child_id),
        )
        .where(Homework.id.in_(homework_ids))
        .group_by(Homework.id)
    )
    return [Completion(homework_id=h, done=int(d), total=int(t)) for h, t, d in rows.all()]


async def attachments(session: AsyncSession, homework_ids: list[int]) -> list[tuple[int, Attachment]]:
    rows = await session.execute(
        select(HomeworkAttachment.homework_id, Attachment)
        .join(Attachment, Attachment.id == HomeworkAttachment.attachment_id)
        .where(HomeworkAttachment.homework_id.in_(homework_ids))
        .order_by(HomeworkAttachment.id)
    )
    return list(rows.all())
