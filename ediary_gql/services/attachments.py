"""Attachments: an uploaded file checked (type by content, size, SHA-256) and stored.

Every workflow that takes files calls `store_attachment`. The bytes go to the
storage backend as they are read: the size cap stops reading at the first
chunk past it, and the type is judged from the first bytes, never from the
name or what the client claims. If the transaction that stored a file rolls
back, the stored bytes are deleted too, so a refused request leaves nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import filetype
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.applications import Application, ApplicationAttachment
from ediary_gql.db.models.attachments import ALLOWED_CONTENT_TYPES, Attachment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import ApplicationStatus, StaffRole
from ediary_gql.db.models.feedback import FeedbackAttachment, FeedbackTicket
from ediary_gql.db.models.homework import Homework, HomeworkAttachment
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.messages import Message, MessageAttachment, Thread, ThreadParticipant
from ediary_gql.db.models.schools import StaffBinding
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import announcement_audience, audit, diary_facts
from ediary_gql.settings import Settings
from ediary_gql.storage import CHUNK_SIZE, AsyncReader, Storage

# filetype looks at most at this many leading bytes
SNIFF_BYTES = 262
MAX_FILE_NAME = 255
_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_HUMAN_TYPES = "PDF, JPG или PNG"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file as a workflow receives it: the name the client gave and its byte stream."""

    name: str | None
    stream: object  # checked to be an AsyncReader by store_attachment

    @classmethod
    def of(cls, upload: object) -> UploadedFile:
        """A multipart upload (Starlette's UploadFile: `filename` and async `read`)."""
        return cls(name=getattr(upload, "filename", None), stream=upload)


def clean_file_name(name: str | None, content_type: str) -> str:
    """The last part of the client's name, printable, at most 255 characters; kept
    for display and downloads only (storage keys never use it)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if base in ("", ".", ".."):
        base = "файл" + _EXTENSIONS.get(content_type, "")
    if len(base) > MAX_FILE_NAME:
        stem, dot, ext = base.rpartition(".")
        keep_ext = bool(dot) and 0 < len(ext) <= 10
        base = stem[: MAX_FILE_NAME - len(ext) - 1] + "." + ext if keep_ext else base[:MAX_FILE_NAME]
    return base


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


class _CheckedStream:
    """Passes the source's bytes through, hashing and counting them; refuses
    (by raising) as soon as the total goes past the cap."""

    def __init__(self, source: AsyncReader, head: bytes, *, max_bytes: int, field: tuple[str, ...]) -> None:
        self._source = source
        self._pending = head
        self._max = max_bytes
        self._field = field
        self.size = 0
        self.sha256 = hashlib.sha256()

    def _count(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self._max:
            raise DomainError(
                ErrorCode.FILE_TOO_LARGE,
                f"Файл больше {_mb(self._max)} МБ",
                field=self._field,
            )
        self.sha256.update(chunk)
        return chunk

    async def read(self, size: int = -1, /) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return self._count(chunk)
        return self._count(await self._source.read(CHUNK_SIZE if size < 0 else min(size, CHUNK_SIZE)))


async def _read_head(stream: AsyncReader) -> bytes:
    head = b""
    while len(head) < SNIFF_BYTES:
        chunk = await stream.read(CHUNK_SIZE)
        if not chunk:
            break
        head += chunk
    return head


async def store_attachment(
    session: AsyncSession,
    *,
    actor: Actor,
    upload_name: str | None,
    stream: object,
    storage: Storage,
    settings: Settings,
    field: Sequence[str] | str = "file",
) -> Attachment:
    """Check and store one uploaded file; the attachment belongs to `actor`.

    The calling workflow has already asked the policy whether its actor may
    do what the file is for. Refusals name `field`: FILE_TYPE_NOT_ALLOWED,
    FILE_TOO_LARGE, INVALID (no file, or an empty one).
    """
    path = (field,) if isinstance(field, str) else tuple(field)
    if not isinstance(stream, AsyncReader):
        raise DomainError(ErrorCode.INVALID, "Ожидается файл (multipart-запрос)", field=path)
    head = await _read_head(stream)
    if not head:
        raise DomainError(ErrorCode.INVALID, "Файл пуст", field=path)
    content_type = filetype.guess_mime(head)
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise DomainError(
            ErrorCode.FILE_TYPE_NOT_ALLOWED,
            f"Допустимы только файлы {_HUMAN_TYPES}; тип определяется по содержимому, а не по имени",
            field=path,
        )
    checked = _CheckedStream(stream, head, max_bytes=settings.upload_max_bytes, field=path)
    key = await storage.save(checked)
    discard_on_rollback(session, storage, key)

    attachment = Attachment(
        owner_id=actor.user_id,
        file_name=clean_file_name(upload_name, content_type),
        content_type=content_type,
        size_bytes=checked.size,
        sha256=checked.sha256.hexdigest(),
        storage_key=key,
    )
    session.add(attachment)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="storeAttachment",
        entity_type="Attachment",
        entity_id=attachment.id,
        after={
            "fileName": attachment.file_name,
            "contentType": content_type,
            "sizeBytes": attachment.size_bytes,
            "sha256": attachment.sha256,
        },
    )
    return attachment


# --- deleting stored bytes when the transaction does not commit ------------------

_STAGED = "ediary.staged_files"
_HOOKED = "ediary.staged_files_hooked"
_background: set[asyncio.Task[None]] = set()


async def collect_attachment(
    session: AsyncSession,
    errors: ErrorCollector,
    *,
    actor: Actor,
    upload_name: str | None,
    stream: object,
    storage: Storage,
    settings: Settings,
    field: Sequence[str] | str = "file",
) -> Attachment | None:
    """`store_attachment`, keeping a refusal in `errors` instead of raising, so a form
    reports the file's problem together with every other one. A stored file is
    deleted again when the transaction rolls back."""
    try:
        return await store_attachment(
            session,
            actor=actor,
            upload_name=upload_name,
            stream=stream,
            storage=storage,
            settings=settings,
            field=field,
        )
    except DomainError as exc:
        errors.errors.extend(exc.errors)
        return None


async def collect_files(
    session: AsyncSession,
    errors: ErrorCollector,
    *,
    actor: Actor,
    files: Sequence[UploadedFile],
    storage: Storage,
    settings: Settings,
    limit: int,
    of_what: str,
) -> list[int]:
    """A form's uploads (`input.files`), each checked like `collect_attachment` at
    `files.<i>`, at most `limit` of them ("Не больше 10 файлов к <of_what>"); the ids
    of those stored."""
    if len(files) > limit:
        errors.add("files", ErrorCode.INVALID, f"Не больше {limit} файлов к {of_what}")
        return []
    stored: list[int] = []
    for i, upload in enumerate(files):
        found = await collect_attachment(
            session,
            errors,
            actor=actor,
            upload_name=upload.name,
            stream=upload.stream,
            storage=storage,
            settings=settings,
            field=("files", str(i)),
        )
        if found is not None:
            stored.append(found.id)
    return stored


def discard_on_rollback(session: AsyncSession, storage: Storage, key: str) -> None:
    """Delete `key` from `storage` if this session's transaction rolls back."""
    sync = session.sync_session
    sync.info.setdefault(_STAGED, []).append((storage, key))
    if not sync.info.get(_HOOKED):
        sync.info[_HOOKED] = True
        event.listen(sync, "after_commit", _forget_staged)
        event.listen(sync, "after_rollback", _discard_staged)


def _forget_staged(sync: Session) -> None:
    sync.info.pop(_STAGED, None)


def _discard_staged(sync: Session) -> None:
    staged: list[tuple[Storage, str]] = sync.info.pop(_STAGED, [])
    if not staged:
        return
    loop = asyncio.get_running_loop()
    for storage, key in staged:
        task = loop.create_task(storage.delete(key))
        _background.add(task)
        task.add_done_callback(_background.discard)


# --- reading ----------------------------------------------------------------------


async def staff_binding_schools(session: AsyncSession, attachment_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(attachment id, school id) for attachments that are staff-binding documents."""
    rows = await session.execute(
        select(StaffBinding.document_id, StaffBinding.school_id).where(
            StaffBinding.document_id.in_(list(attachment_ids))
        )
    )
    return [(int(a), int(s)) for a, s in rows.all()]


async def application_schools(session: AsyncSession, attachment_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(attachment id, school id) for files of parents' applications that were sent to a
    school (a draft's files stay the applicant's alone)."""
    rows = await session.execute(
        select(ApplicationAttachment.attachment_id, Application.school_id)
        .join(Application, Application.id == ApplicationAttachment.application_id)
        .where(
            ApplicationAttachment.attachment_id.in_(list(attachment_ids)),
            Application.school_id.is_not(None),
            Application.status != ApplicationStatus.DRAFT,
        )
    )
    return [(int(a), int(s)) for a, s in rows.all() if s is not None]


@dataclass(frozen=True, slots=True)
class HomeworkLesson:
    """The lesson a homework file was given at, as far as the policy needs it."""

    school_id: int
    class_id: int
    date: dt.date
    # the lesson's teacher and substitute, and the class's homeroom teacher
    teacher_ids: frozenset[int]


async def homework_lessons(session: AsyncSession, attachment_ids: Sequence[int]) -> list[tuple[int, HomeworkLesson]]:
    """(attachment id, lesson) for attachments that are files of a homework."""
    rows = await session.execute(
        select(
            HomeworkAttachment.attachment_id,
            Lesson.school_id,
            Lesson.class_id,
            Lesson.date,
            Lesson.teacher_id,
            Lesson.substitute_teacher_id,
            SchoolClass.homeroom_teacher_id,
        )
        .join(Homework, Homework.id == HomeworkAttachment.homework_id)
        .join(Lesson, Lesson.id == Homework.lesson_id)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(HomeworkAttachment.attachment_id.in_(list(attachment_ids)))
    )
    return [
        (
            int(attachment),
            HomeworkLesson(
                school_id=int(school),
                class_id=int(class_id),
                date=date,
                teacher_ids=frozenset(t for t in (teacher, substitute, homeroom) if t is not None),
            ),
        )
        for attachment, school, class_id, date, teacher, substitute, homeroom in rows.all()
    ]


def family_of(actor: Actor | None) -> frozenset[int]:
    """The children whose enrolment decides what a family actor reads: wards and own child."""
    if actor is None:
        return frozenset()
    own = frozenset() if actor.student_child_id is None else frozenset({actor.student_child_id})
    return actor.guardian_of | own


async def _homework_facts(
    session: AsyncSession, actor: Actor | None, lessons: Sequence[HomeworkLesson]
) -> list[policy.HomeworkFileFacts]:
    if actor is None:
        return []
    family = family_of(actor)
    facts = []
    for lesson in lessons:
        children = (
            await diary_facts.enrolled(session, class_id=lesson.class_id, date=lesson.date, child_ids=family)
            if family
            else frozenset()
        )
        teaches = actor.user_id in lesson.teacher_ids
        if not teaches and actor.has_role(lesson.school_id, StaffRole.TEACHER):
            teaches = (
                await session.scalar(
                    select(TeachingAssignment.id)
                    .where(
                        TeachingAssignment.class_id == lesson.class_id, TeachingAssignment.teacher_id == actor.user_id
                    )
                    .limit(1)
                )
                is not None
            )
        facts.append(
            policy.HomeworkFileFacts(school_id=lesson.school_id, class_child_ids=children, teaches_class=teaches)
        )
    return facts


async def message_threads(
    session: AsyncSession, actor: Actor | None, attachment_ids: Sequence[int]
) -> list[tuple[int, bool, frozenset[int]]]:
    """For attachments that are files of messages: (school, left, the actor's family
    schools) for each such thread the actor takes part in; as policy.can_view_thread takes them."""
    if actor is None:
        return []
    rows = (
        await session.execute(
            select(Thread.school_id, ThreadParticipant.left_at)
            .join(Message, Message.thread_id == Thread.id)
            .join(MessageAttachment, MessageAttachment.message_id == Message.id)
            .join(ThreadParticipant, ThreadParticipant.thread_id == Thread.id)
            .where(
                MessageAttachment.attachment_id.in_(list(attachment_ids)), ThreadParticipant.user_id == actor.user_id
            )
        )
    ).all()
    if not rows:
        return []
    children = set(actor.guardian_of)
    if actor.student_child_id is not None:
        children.add(actor.student_child_id)
    family = frozenset(school for _, (_, school) in await diary_facts.current_classes_of_children(session, children))
    return [(school, left_at is not None, family) for school, left_at in rows]


async def feedback_tickets(
    session: AsyncSession, attachment_ids: Sequence[int]
) -> list[tuple[int, policy.FeedbackTicketFacts]]:
    """(attachment id, the ticket's facts) for attachments that are files of a feedback ticket."""
    rows = await session.execute(
        select(
            FeedbackAttachment.attachment_id,
            FeedbackTicket.author_id,
            FeedbackTicket.category,
            FeedbackTicket.school_id,
        )
        .join(FeedbackTicket, FeedbackTicket.id == FeedbackAttachment.ticket_id)
        .where(FeedbackAttachment.attachment_id.in_(list(attachment_ids)))
    )
    return [
        (int(a), policy.FeedbackTicketFacts(author_id=author, category=category, school_id=school))
        for a, author, category, school in rows.all()
    ]


async def find_for_download(session: AsyncSession, *, actor: Actor | None, attachment_id: int) -> Attachment | None:
    """The attachment if `actor` may read it; None when it is absent or not theirs
    to see (the two look the same to the caller)."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    schools = frozenset(school for _, school in await staff_binding_schools(session, [attachment.id]))
    applied_to = frozenset(school for _, school in await application_schools(session, [attachment.id]))
    lessons = [lesson for _, lesson in await homework_lessons(session, [attachment.id])]
    if not policy.can_view_attachment(
        actor,
        attachment.owner_id,
        staff_binding_schools=schools,
        application_schools=applied_to,
        homeworks=await _homework_facts(session, actor, lessons),
        feedback_tickets=[t for _, t in await feedback_tickets(session, [attachment.id])],
        announcements=await announcement_audience.attachment_facts(session, actor, [attachment.id]),
        message_threads=await message_threads(session, actor, [attachment.id]),
    ):
        return None
    return attachment
