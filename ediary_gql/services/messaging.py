"""Conversations between staff and families: threads about a child or for a class,
their messages, read marks and departures. Who may write to whom is the policy's
(`policy.can_write_to`); this module gathers the facts it decides on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import NotificationKind, StaffRole
from ediary_gql.db.models.messages import Message, MessageAttachment, Thread, ThreadParticipant
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ThreadMessage
from ediary_gql.services import audit, diary_facts, rate_limits
from ediary_gql.services.attachments import UploadedFile, collect_files
from ediary_gql.services.notifications import Notice, notify_many
from ediary_gql.services.school_time import today_in
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

SUBJECT_MAX = 200
TEXT_MAX = 10_000
FILES_MAX = 10
NOT_YOURS = "Переписка не найдена или недоступна"
# what a thread event says happened (ThreadMessage.action); named apart from the audited actions
POSTED, READ, LEFT = "message", "read", "left"


@dataclass(frozen=True, slots=True)
class NewMessage:
    text: str
    files: Sequence[UploadedFile] = field(default_factory=tuple)


async def family_school_ids(session: AsyncSession, actor: Actor) -> frozenset[int]:
    """Schools where the actor's wards (or own child) are enrolled now."""
    family = set(actor.guardian_of)
    if actor.student_child_id is not None:
        family.add(actor.student_child_id)
    if not family:
        return frozenset()
    return frozenset(school for _, (_, school) in await diary_facts.current_classes_of_children(session, family))


async def _staff_roles(session: AsyncSession, school_id: int, user_ids: Sequence[int]) -> dict[int, set[StaffRole]]:
    rows = await session.execute(
        select(StaffMembership.user_id, StaffMembership.role).where(
            StaffMembership.school_id == school_id,
            StaffMembership.user_id.in_(list(user_ids)),
            StaffMembership.active.is_(True),
            StaffMembership.role.in_([StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN]),
        )
    )
    found: dict[int, set[StaffRole]] = {}
    for user, role in rows.all():
        found.setdefault(user, set()).add(role)
    return found


async def _family_of_child(session: AsyncSession, child_id: int) -> frozenset[int]:
    """The child's guardians and own login."""
    guardians = set(await session.scalars(select(Guardianship.parent_id).where(Guardianship.child_id == child_id)))
    own = await session.scalar(select(Child.user_id).where(Child.id == child_id))
    if own is not None:
        guardians.add(own)
    return frozenset(guardians)


async def _class_teachers(session: AsyncSession, class_id: int) -> frozenset[int]:
    """Teachers of any subject of the class and its homeroom teacher."""
    teachers = set(
        await session.scalars(select(TeachingAssignment.teacher_id).where(TeachingAssignment.class_id == class_id))
    )
    homeroom = await session.scalar(select(SchoolClass.homeroom_teacher_id).where(SchoolClass.id == class_id))
    if homeroom is not None:
        teachers.add(homeroom)
    return frozenset(teachers)


async def _child_class(session: AsyncSession, child_id: int) -> tuple[int, int] | None:
    """(class id, school id) the child is enrolled in today."""
    found = await diary_facts.current_classes_of_children(session, [child_id])
    return found[0][1] if found else None


def _check_text(errors: ErrorCollector, text: str, field: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        errors.add(field, ErrorCode.REQUIRED, "Напишите сообщение")
    elif len(text) > TEXT_MAX:
        errors.add(field, ErrorCode.TOO_LONG, f"Сообщение — не длиннее {TEXT_MAX} символов")
    return text


async def _accept(
    session: AsyncSession,
    errors: ErrorCollector,
    *,
    actor: Actor,
    message: NewMessage,
    storage: Storage,
    settings: Settings,
    now: dt.datetime,
) -> list[int]:
    """What every new message passes: the sender's rate limit, then its files with every
    other problem of the input (raised together); the stored files' ids."""
    await _rate_limit(session, actor=actor, settings=settings, now=now)
    attachment_ids = await collect_files(
        session,
        errors,
        actor=actor,
        files=message.files,
        storage=storage,
        settings=settings,
        limit=FILES_MAX,
        of_what="сообщению",
    )
    errors.raise_if_any()
    return attachment_ids


async def _rate_limit(session: AsyncSession, *, actor: Actor, settings: Settings, now: dt.datetime) -> None:
    """A sender's messages within the window: the messages themselves are the counter."""
    if settings.message_limit_per_user <= 0:
        return
    window = dt.timedelta(seconds=settings.message_limit_window_seconds)
    until = await rate_limits.window_full_until(
        session,
        Message.created_at,
        Message.author_id == actor.user_id,
        max_hits=settings.message_limit_per_user,
        window=window,
        now=now,
    )
    if until is not None:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"Слишком много сообщений подряд. Повторите попытку {rate_limits.wait_text(until, now)}",
            field="text",
        )


async def _post(
    session: AsyncSession, *, actor: Actor, thread: Thread, text: str, attachment_ids: list[int], now: dt.datetime
) -> Message:
    """Write a message, move the thread's activity, mark it read for its author, notify
    the other participants (kind MESSAGE) and queue the events."""
    message = Message(thread_id=thread.id, author_id=actor.user_id, body=text, created_at=now)
    session.add(message)
    await session.flush()
    session.add_all(MessageAttachment(message_id=message.id, attachment_id=a) for a in attachment_ids)
    thread.last_message_at = now
    thread.last_message_id = message.id
    members = list(
        (
            await session.scalars(
                select(ThreadParticipant).where(
                    ThreadParticipant.thread_id == thread.id, ThreadParticipant.left_at.is_(None)
                )
            )
        ).all()
    )
    for member in members:
        if member.user_id == actor.user_id:
            member.last_read_message_id = message.id
            member.last_read_at = now
    others = [m.user_id for m in members if m.user_id != actor.user_id]
    users = (
        list((await session.scalars(select(User).where(User.id.in_(others)).order_by(User.id))).all()) if others else []
    )
    author = await session.get(User, actor.user_id)
    name = " ".join(p for p in (author.last_name, author.first_name) if p) if author else "Участник"
    await notify_many(
        session,
        [
            Notice(
                user=u,
                kind=NotificationKind.MESSAGE,
                title=f"Новое сообщение: {thread.subject}",
                body=f"{name}: {text[:200]}",
                payload={"thread_id": thread.id, "message_id": message.id},
            )
            for u in users
        ],
    )
    await session.flush()
    queue_event(
        session, ThreadMessage(thread_id=thread.id, action=POSTED, message_id=message.id, user_id=actor.user_id)
    )
    for m in members:
        queue_event(
            session,
            ThreadMessage(
                thread_id=thread.id, action=POSTED, message_id=message.id, user_id=actor.user_id, for_user=m.user_id
            ),
        )
    return message


async def start_thread(
    session: AsyncSession,
    *,
    actor: Actor,
    subject: str,
    child_id: int | None,
    class_id: int | None,
    participant_ids: Sequence[int],
    message: NewMessage,
    storage: Storage,
    settings: Settings,
) -> tuple[Thread, Message]:
    """A thread about a child (with the people named), for a class (with the guardians of
    the children enrolled now), or among colleagues; the first message with it."""
    policy.require_confirmed(actor)
    errors = ErrorCollector()
    subject = (subject or "").strip()
    if not subject:
        errors.add("subject", ErrorCode.REQUIRED, "Укажите тему")
    elif len(subject) > SUBJECT_MAX:
        errors.add("subject", ErrorCode.TOO_LONG, f"Тема — не длиннее {SUBJECT_MAX} символов")
    text = _check_text(errors, message.text)
    if child_id is not None and class_id is not None:
        errors.add("classId", ErrorCode.INVALID, "Укажите либо ребёнка, либо класс")
    errors.raise_if_any()

    wanted = [u for u in dict.fromkeys(participant_ids) if u != actor.user_id]
    members: set[int] = set(wanted)
    school_id: int
    if class_id is not None:
        school_class = await session.get(SchoolClass, class_id)
        if school_class is None:
            raise not_found("classId", "Класс не найден")
        school_id = school_class.school_id
        teaches = actor.user_id in await _class_teachers(session, class_id)
        policy.ensure(
            policy.can_start_class_thread(actor, school_id=school_id, teaches_class=teaches),
            "Написать семьям класса могут его учителя, классный руководитель и администраторы школы",
        )
        school = await session.get(School, school_id)
        today = today_in(school.timezone if school else None)
        guardians = set(
            await session.scalars(
                select(Guardianship.parent_id)
                .join(Enrollment, Enrollment.child_id == Guardianship.child_id)
                .where(Enrollment.class_id == class_id, *diary_facts.enrolled_on(today))
            )
        )
        staff = await _staff_roles(session, school_id, wanted)
        for i, user in enumerate(participant_ids):
            if user != actor.user_id and user not in staff and user not in guardians:
                errors.add(("participantIds", str(i)), ErrorCode.INVALID, "Этому участнику писать нельзя")
        members |= guardians
    elif child_id is not None:
        placed = await _child_class(session, child_id)
        family = await _family_of_child(session, child_id)
        is_family = child_id in actor.guardian_of or actor.student_child_id == child_id
        if placed is None or not (is_family or any(s == placed[1] for s, _ in actor.memberships)):
            raise not_found("childId", "Ребёнок не найден")
        child_class, school_id = placed
        teachers = await _class_teachers(session, child_class)
        staff = await _staff_roles(session, school_id, wanted)
        if not wanted:
            errors.add("participantIds", ErrorCode.REQUIRED, "Укажите, кому написать")
        for i, user in enumerate(participant_ids):
            if user == actor.user_id:
                continue
            roles = staff.get(user, set())
            recipient = policy.Recipient(
                user_id=user,
                is_staff=bool(roles),
                is_admin=StaffRole.SCHOOL_ADMIN in roles,
                teaches_child=user in teachers,
                family_of_child=user in family,
            )
            if not policy.can_write_to(
                actor,
                school_id=school_id,
                child_id=child_id,
                actor_teaches_child=actor.user_id in teachers,
                recipient=recipient,
            ):
                errors.add(("participantIds", str(i)), ErrorCode.INVALID, "Этому участнику писать нельзя")
    else:
        schools = sorted(actor.schools_with(StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN))
        if not schools:
            raise forbidden("Переписка без ребёнка или класса — только между сотрудниками школы")
        if not wanted:
            errors.add("participantIds", ErrorCode.REQUIRED, "Укажите, кому написать")
        school_id = schools[0]
        for candidate in schools:  # the school where every named colleague works
            if set(wanted) <= set(await _staff_roles(session, candidate, wanted)):
                school_id = candidate
                break
        staff = await _staff_roles(session, school_id, wanted)
        for i, user in enumerate(participant_ids):
            if user != actor.user_id and not policy.can_write_to(
                actor,
                school_id=school_id,
                child_id=None,
                actor_teaches_child=False,
                recipient=policy.Recipient(user_id=user, is_staff=user in staff),
            ):
                errors.add(("participantIds", str(i)), ErrorCode.INVALID, "Этому участнику писать нельзя")
    now = utcnow()
    attachment_ids = await _accept(
        session, errors, actor=actor, message=message, storage=storage, settings=settings, now=now
    )

    thread = Thread(
        school_id=school_id,
        subject=subject,
        created_by_id=actor.user_id,
        child_id=child_id,
        class_id=class_id,
        last_message_at=now,
    )
    session.add(thread)
    await session.flush()
    session.add_all(ThreadParticipant(thread_id=thread.id, user_id=u) for u in sorted(members | {actor.user_id}))
    await session.flush()
    first = await _post(session, actor=actor, thread=thread, text=text, attachment_ids=attachment_ids, now=now)
    audit.record(
        session,
        actor=actor,
        action="startThread",
        entity_type="Thread",
        entity_id=thread.id,
        after={"child_id": child_id, "class_id": class_id, "user_ids": sorted(members), "message_id": first.id},
        school_id=school_id,
    )
    return thread, first


async def _member(
    session: AsyncSession, actor: Actor, thread_id: int, *, lock: bool = False
) -> tuple[Thread, ThreadParticipant]:
    """The thread and the actor's place in it, if the actor may see it (NOT_FOUND otherwise)."""
    thread = await session.get(Thread, thread_id, with_for_update=lock)
    member = None
    if thread is not None:
        member = await session.scalar(
            select(ThreadParticipant).where(
                ThreadParticipant.thread_id == thread_id, ThreadParticipant.user_id == actor.user_id
            )
        )
    if (
        thread is None
        or member is None
        or not policy.can_view_thread(
            actor,
            school_id=thread.school_id,
            participant=True,
            left=member.left_at is not None,
            family_school_ids=await family_school_ids(session, actor),
        )
    ):
        raise not_found("threadId", NOT_YOURS)
    return thread, member


async def send_message(
    session: AsyncSession, *, actor: Actor, thread_id: int, message: NewMessage, storage: Storage, settings: Settings
) -> Message:
    thread, _ = await _member(session, actor, thread_id, lock=True)
    errors = ErrorCollector()
    text = _check_text(errors, message.text)
    errors.raise_if_any()
    now = utcnow()
    attachment_ids = await _accept(
        session, errors, actor=actor, message=message, storage=storage, settings=settings, now=now
    )
    posted = await _post(session, actor=actor, thread=thread, text=text, attachment_ids=attachment_ids, now=now)
    audit.record(
        session,
        actor=actor,
        action="sendMessage",
        entity_type="Message",
        entity_id=posted.id,
        after={"thread_id": thread.id, "attachments": attachment_ids},
        school_id=thread.school_id,
    )
    return posted


async def mark_thread_read(session: AsyncSession, *, actor: Actor, thread_id: int) -> Thread:
    thread, member = await _member(session, actor, thread_id)
    if thread.last_message_id is not None and member.last_read_message_id != thread.last_message_id:
        member.last_read_message_id = thread.last_message_id
        member.last_read_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor=actor,
            action="markThreadRead",
            entity_type="Thread",
            entity_id=thread.id,
            after={"message_id": thread.last_message_id},
            school_id=thread.school_id,
        )
        queue_event(session, ThreadMessage(thread_id=thread.id, action=READ, user_id=actor.user_id))
    return thread


async def leave_thread(session: AsyncSession, *, actor: Actor, thread_id: int) -> Thread:
    thread, member = await _member(session, actor, thread_id)
    member.left_at = utcnow()
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="leaveThread",
        entity_type="Thread",
        entity_id=thread.id,
        school_id=thread.school_id,
    )
    queue_event(session, ThreadMessage(thread_id=thread.id, action=LEFT, user_id=actor.user_id))
    return thread


# --- reading ------------------------------------------------------------------------------


def threads_query(
    actor: Actor, *, family_schools: frozenset[int], unread: bool | None, child_id: int | None, class_id: int | None
) -> Select[Thread]:
    """The actor's threads (not left, at a school they are still tied to)."""
    schools = {s for s, _ in actor.memberships} | set(family_schools)
    member = and_(
        ThreadParticipant.thread_id == Thread.id,
        ThreadParticipant.user_id == actor.user_id,
        ThreadParticipant.left_at.is_(None),
    )
    stmt = select(Thread).join(ThreadParticipant, member).where(Thread.school_id.in_(sorted(schools)))
    if actor.is_operator and not actor.memberships:
        stmt = stmt.where(Thread.id.is_(None))
    if child_id is not None:
        stmt = stmt.where(Thread.child_id == child_id)
    if class_id is not None:
        stmt = stmt.where(Thread.class_id == class_id)
    if unread:
        stmt = stmt.where(
            Thread.last_message_id.is_not(None),
            or_(
                ThreadParticipant.last_read_message_id.is_(None),
                ThreadParticipant.last_read_message_id < Thread.last_message_id,
            ),
        )
    return stmt


async def unread_counts(session: AsyncSession, user_id: int, thread_ids: Sequence[int]) -> dict[int, int]:
    """Messages by others above the user's read mark, per thread: one statement."""
    if not thread_ids:
        return {}
    rows = await session.execute(
        select(Message.thread_id, func.count(Message.id))
        .join(
            ThreadParticipant,
            and_(ThreadParticipant.thread_id == Message.thread_id, ThreadParticipant.user_id == user_id),
        )
        .where(
            Message.thread_id.in_(list(thread_ids)),
            Message.author_id != user_id,
            Message.id > func.coalesce(ThreadParticipant.last_read_message_id, 0),
        )
        .group_by(Message.thread_id)
    )
    return {int(t): int(c) for t, c in rows.all()}


async def unread_total(session: AsyncSession, actor: Actor) -> int:
    family = await family_school_ids(session, actor)
    visible = threads_query(actor, family_schools=family, unread=None, child_id=None, class_id=None).with_only_columns(
        Thread.id
    )
    total = await session.scalar(
        select(func.count(Message.id))
        .join(
            ThreadParticipant,
            and_(ThreadParticipant.thread_id == Message.thread_id, ThreadParticipant.user_id == actor.user_id),
        )
        .where(
            Message.thread_id.in_(visible.scalar_subquery()),
            Message.author_id != actor.user_id,
            Message.id > func.coalesce(ThreadParticipant.last_read_message_id, 0),
        )
    )
    return int(total or 0)


def messages_query(thread_id: int) -> Select[Message]:
    return select(Message).where(Message.thread_id == thread_id)


async def participants(session: AsyncSession, thread_ids: list[int]) -> list[tuple[int, ThreadParticipant]]:
    rows = await session.scalars(
        select(ThreadParticipant).where(ThreadParticipant.thread_id.in_(thread_ids)).order_by(ThreadParticipant.id)
    )
    return [(p.thread_id, p) for p in rows.all()]


async def attachments(session: AsyncSession, message_ids: list[int]) -> list[tuple[int, Attachment]]:
    rows = await session.execute(
        select(MessageAttachment.message_id, Attachment)
        .join(Attachment, Attachment.id == MessageAttachment.attachment_id)
        .where(MessageAttachment.message_id.in_(message_ids))
        .order_by(MessageAttachment.id)
    )
    return [(int(m), a) for m, a in rows.all()]


@dataclass(frozen=True, slots=True)
class MessagePageKey:
    """One page of one thread's messages, newest first: `size` rows after the message `after_id`
    (older than it) and before `before_id` (newer than it); `backwards` (Relay `last`) takes the
    page from the newer end, fetched oldest first."""

    thread_id: int
    size: int
    after_id: int | None = None
    before_id: int | None = None
    backwards: bool = False


async def message_pages(session: AsyncSession, keys: Sequence[MessagePageKey]) -> dict[MessagePageKey, list[Message]]:
    """Pages of many threads' messages in one statement per distinct page (a window
    function numbers each thread's messages in the order of the fetch): the statement count
    of a list of threads does not grow with its threads. Each page holds up to `size + 1` rows,
    the last one only saying that there is more."""
    found: dict[MessagePageKey, list[Message]] = {}
    buckets: dict[tuple[int, int | None, int | None, bool], list[MessagePageKey]] = {}
    for key in keys:
        buckets.setdefault((key.size, key.after_id, key.before_id, key.backwards), []).append(key)
    for (size, after_id, before_id, backwards), group in buckets.items():
        thread_ids = sorted({k.thread_id for k in group})
        order = Message.id.asc() if backwards else Message.id.desc()
        number = func.row_number().over(partition_by=Message.thread_id, order_by=order).label("n")
        inner = select(Message.id, number).where(Message.thread_id.in_(thread_ids))
        if after_id is not None:
            inner = inner.where(Message.id < after_id)
        if before_id is not None:
            inner = inner.where(Message.id > before_id)
        ranked = inner.subquery()
        rows = await session.scalars(
            select(Message)
            .join(ranked, ranked.c.id == Message.id)
            .where(ranked.c.n <= size + 1)
            .order_by(Message.thread_id, order)
        )
        by_thread: dict[int, list[Message]] = {}
        for row in rows.all():
            by_thread.setdefault(row.thread_id, []).append(row)
        for key in group:
            found[key] = by_thread.get(key.thread_id, [])
    return found


async def message_count(session: AsyncSession, thread_id: int) -> int:
    return int(await session.scalar(select(func.count(Message.id)).where(Message.thread_id == thread_id)) or 0)
