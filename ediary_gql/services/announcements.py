"""Announcements: published by a school's admins (any audience) or its teachers (their
classes), shown to those they are addressed to from `starts_on` to `ends_on`, until
withdrawn. Publishing notifies every addressee once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import AnnouncementAudience, AnnouncementKind, NotificationKind, StaffRole
from ediary_gql.db.models.messages import Announcement, AnnouncementAttachment, AnnouncementClass
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import AnnouncementChanged
from ediary_gql.services import audit, diary_facts
from ediary_gql.services.announcement_audience import STAFF_ROLES as _STAFF_ROLES
from ediary_gql.services.announcement_audience import classes_of, facts, reader_facts
from ediary_gql.services.attachments import UploadedFile, collect_files
from ediary_gql.services.notifications import Notice, notify_many
from ediary_gql.services.school_time import school_today
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

TITLE_MAX = 200
TEXT_MAX = 10_000
ATTACHMENTS_MAX = 10
NOT_FOUND = "Объявление не найдено"


@dataclass(frozen=True, slots=True)
class AnnouncementData:
    """A new announcement, or (with None for what stays) an update of one."""

    title: str | None = None
    text: str | None = None
    kind: AnnouncementKind | None = None
    audience: AnnouncementAudience | None = None
    class_ids: Sequence[int] | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    # an update: True clears ends_on (an open-ended announcement)
    clear_ends_on: bool = False
    files: Sequence[UploadedFile] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Filter:
    kind: AnnouncementKind | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    class_id: int | None = None
    school_id: int | None = None


# --- who reads --------------------------------------------------------------------------


def _addressed(actor: Actor, reader: policy.AnnouncementReader) -> ColumnElement[bool]:
    """SQL twin of policy.is_announcement_addressed (standing announcements only)."""
    if actor.is_system:
        return Announcement.id.is_not(None)
    staff = actor.schools_with(*_STAFF_ROLES)
    admin = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    classes = reader.family_class_ids | reader.taught_classes
    by_class = (
        Announcement.id.in_(select(AnnouncementClass.announcement_id).where(AnnouncementClass.class_id.in_(classes)))
        if classes
        else false()
    )
    return or_(
        and_(Announcement.audience == AnnouncementAudience.STAFF, Announcement.school_id.in_(staff)),
        and_(
            Announcement.audience == AnnouncementAudience.SCHOOL,
            Announcement.school_id.in_(staff | reader.family_schools),
        ),
        and_(Announcement.audience == AnnouncementAudience.CLASSES, or_(Announcement.school_id.in_(admin), by_class)),
    )


async def visible_query(session: AsyncSession, *, actor: Actor, flt: Filter) -> Select[Announcement]:
    """Standing announcements addressed to the actor, filtered; the page orders them."""
    reader = await reader_facts(session, actor)
    conditions: list[ColumnElement[bool]] = [Announcement.withdrawn_at.is_(None), _addressed(actor, reader)]
    if flt.kind is not None:
        conditions.append(Announcement.kind == flt.kind)
    if flt.school_id is not None:
        conditions.append(Announcement.school_id == flt.school_id)
    if flt.to_date is not None:
        conditions.append(Announcement.starts_on <= flt.to_date)
    if flt.from_date is not None:
        conditions.append(or_(Announcement.ends_on.is_(None), Announcement.ends_on >= flt.from_date))
    if flt.class_id is not None:
        # what reaches that class: addressed to it, or to its whole school
        school_of_class = select(SchoolClass.school_id).where(SchoolClass.id == flt.class_id).scalar_subquery()
        conditions.append(
            or_(
                Announcement.id.in_(
                    select(AnnouncementClass.announcement_id).where(AnnouncementClass.class_id == flt.class_id)
                ),
                and_(Announcement.audience == AnnouncementAudience.SCHOOL, Announcement.school_id == school_of_class),
            )
        )
    return select(Announcement).where(*conditions)


async def may_view(session: AsyncSession, *, actor: Actor | None, row: Announcement) -> bool:
    if actor is None:
        return False
    class_ids = await classes_of(session, [row.id])
    return policy.can_view_announcement(
        actor, facts(row, (c for _, c in class_ids)), await reader_facts(session, actor)
    )


# --- writing ----------------------------------------------------------------------------


def _check_text(errors: ErrorCollector, title: str | None, text: str | None) -> None:
    if title is not None:
        if not title:
            errors.add("title", ErrorCode.REQUIRED, "Напишите заголовок объявления")
        elif len(title) > TITLE_MAX:
            errors.add("title", ErrorCode.TOO_LONG, f"Заголовок — не длиннее {TITLE_MAX} символов")
    if text is not None:
        if not text:
            errors.add("text", ErrorCode.REQUIRED, "Напишите текст объявления")
        elif len(text) > TEXT_MAX:
            errors.add("text", ErrorCode.TOO_LONG, f"Текст — не длиннее {TEXT_MAX} символов")


async def _check_classes(
    session: AsyncSession,
    errors: ErrorCollector,
    *,
    school_id: int,
    audience: AnnouncementAudience,
    class_ids: Sequence[int],
) -> list[int]:
    """The classes of an announcement: some for CLASSES (each of the school), none otherwise."""
    if audience != AnnouncementAudience.CLASSES:
        if class_ids:
            errors.add("classIds", ErrorCode.INVALID, "Классы указываются только для объявления классам")
        return []
    if not class_ids:
        errors.add("classIds", ErrorCode.REQUIRED, "Укажите классы, которым адресовано объявление")
        return []
    found = set(
        (
            await session.scalars(
                select(SchoolClass.id).where(SchoolClass.id.in_(list(class_ids)), SchoolClass.school_id == school_id)
            )
        ).all()
    )
    for i, class_id in enumerate(class_ids):
        if class_id not in found:
            errors.add(("classIds", str(i)), ErrorCode.NOT_FOUND, "Класс этой школы не найден")
    return list(dict.fromkeys(class_ids))


def _refuse_publish(actor: Actor) -> str:
    if actor.schools_with(StaffRole.TEACHER):
        return "Учитель публикует объявления только для классов, в которых он ведёт уроки или классное руководство"
    return "Публиковать объявления могут ответственные за дневник школы и её учителя (для своих классов)"


async def publish_announcement(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    data: AnnouncementData,
    storage: Storage,
    settings: Settings,
) -> Announcement:
    """A new announcement: checked all at once, stored with its classes and files, audited,
    every addressee (but the author) notified once, subscribers told after commit."""
    school = await session.get(School, school_id)
    if school is None:
        raise not_found("schoolId", "Школа не найдена")
    audience = data.audience or AnnouncementAudience.SCHOOL
    requested = frozenset(data.class_ids or ())
    reader = await reader_facts(session, actor)
    policy.ensure(
        policy.can_publish_announcement(
            actor,
            school_id=school_id,
            audience=audience.value,
            class_ids=requested,
            taught_classes=reader.taught_classes,
        ),
        _refuse_publish(actor),
    )
    errors = ErrorCollector()
    title = (data.title or "").strip()
    text = (data.text or "").strip()
    _check_text(errors, title, text)
    starts_on = data.starts_on or await school_today(session, school_id)
    if data.ends_on is not None and data.ends_on < starts_on:
        errors.add("endsOn", ErrorCode.INVALID, "Дата окончания не может быть раньше даты начала")
    class_ids = await _check_classes(
        session, errors, school_id=school_id, audience=audience, class_ids=list(data.class_ids or ())
    )
    files = await collect_files(
        session,
        errors,
        actor=actor,
        files=data.files,
        storage=storage,
        settings=settings,
        limit=ATTACHMENTS_MAX,
        of_what="объявлению",
    )
    errors.raise_if_any()

    row = Announcement(
        school_id=school_id,
        audience=audience,
        kind=data.kind or AnnouncementKind.GENERAL,
        title=title,
        body=text,
        starts_on=starts_on,
        ends_on=data.ends_on,
        author_id=actor.user_id,
    )
    session.add(row)
    await session.flush()
    session.add_all(AnnouncementClass(announcement_id=row.id, class_id=c) for c in class_ids)
    session.add_all(AnnouncementAttachment(announcement_id=row.id, attachment_id=a) for a in files)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="publishAnnouncement",
        entity_type="Announcement",
        entity_id=row.id,
        after=_snapshot(row, class_ids, files),
        school_id=school_id,
    )
    people = await addressees(session, row=row, class_ids=class_ids)
    await notify_many(
        session,
        [
            Notice(
                user=user,
                kind=NotificationKind.ANNOUNCEMENT,
                title=f"Объявление: {row.title}",
                body=_notice_body(row),
                payload={"announcement_id": row.id, "school_id": school_id},
            )
            for user in people
            if user.id != actor.user_id
        ],
    )
    _tell(session, row, "published")
    return row


def _tell(session: AsyncSession, row: Announcement, change: str) -> None:
    """Subscribers of the school hear of the change after commit (published, updated, withdrawn)."""
    queue_event(session, AnnouncementChanged(announcement_id=row.id, school_id=row.school_id, action=change))


def _notice_body(row: Announcement) -> str:
    when = f"с {row.starts_on:%d.%m.%Y}"
    if row.ends_on is not None:
        when += f" по {row.ends_on:%d.%m.%Y}"
    short = row.body if len(row.body) <= 300 else row.body[:299] + "…"
    return f"{short}\n({when})"


def _snapshot(row: Announcement, class_ids: Sequence[int], files: Sequence[int] | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "audience": row.audience.value,
        "kind": row.kind.value,
        "title": row.title,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "class_ids": list(class_ids),
    }
    if files is not None:
        found["attachments"] = list(files)
    return found


async def _to_edit(session: AsyncSession, *, actor: Actor, announcement_id: int) -> tuple[Announcement, list[int]]:
    """The announcement, locked, once the actor may edit it; one they may not even see is
    NOT_FOUND, as one that does not exist."""
    row = await session.get(Announcement, announcement_id, with_for_update=True)
    if row is None:
        raise not_found("announcementId", NOT_FOUND)
    class_ids = [c for _, c in await classes_of(session, [row.id])]
    ann = facts(row, class_ids)
    if not policy.can_edit_announcement(actor, ann):
        reader = await reader_facts(session, actor)
        if not policy.can_view_announcement(actor, ann, reader):
            raise not_found("announcementId", NOT_FOUND)
        policy.ensure(False, "Изменить объявление могут его автор и ответственные за дневник школы")
    return row, class_ids


async def update_announcement(
    session: AsyncSession, *, actor: Actor, announcement_id: int, data: AnnouncementData
) -> Announcement:
    """Change what is given (None: keep); a teacher keeps to the classes they teach. A
    withdrawn announcement stays withdrawn. Subscribers hear of it; no new notices."""
    row, old_classes = await _to_edit(session, actor=actor, announcement_id=announcement_id)
    if row.withdrawn_at is not None:
        _invalid_state("Объявление снято с публикации — его нельзя изменить")
    before = _snapshot(row, old_classes)
    audience = data.audience or row.audience
    wanted = list(data.class_ids) if data.class_ids is not None else old_classes
    if audience != AnnouncementAudience.CLASSES and data.class_ids is None:
        wanted = []
    if data.audience is not None or data.class_ids is not None:
        reader = await reader_facts(session, actor)
        policy.ensure(
            policy.can_publish_announcement(
                actor,
                school_id=row.school_id,
                audience=audience.value,
                class_ids=frozenset(wanted),
                taught_classes=reader.taught_classes,
            ),
            _refuse_publish(actor),
        )
    errors = ErrorCollector()
    title = data.title.strip() if data.title is not None else None
    text = data.text.strip() if data.text is not None else None
    _check_text(errors, title, text)
    starts_on = data.starts_on or row.starts_on
    ends_on = None if data.clear_ends_on else (data.ends_on or row.ends_on)
    if ends_on is not None and ends_on < starts_on:
        errors.add("endsOn", ErrorCode.INVALID, "Дата окончания не может быть раньше даты начала")
    class_ids = await _check_classes(session, errors, school_id=row.school_id, audience=audience, class_ids=wanted)
    errors.raise_if_any()

    row.audience = audience
    if title is not None:
        row.title = title
    if text is not None:
        row.body = text
    if data.kind is not None:
        row.kind = data.kind
    row.starts_on = starts_on
    row.ends_on = ends_on
    if set(class_ids) != set(old_classes):
        for old in (
            await session.scalars(select(AnnouncementClass).where(AnnouncementClass.announcement_id == row.id))
        ).all():
            await session.delete(old)
        await session.flush()
        session.add_all(AnnouncementClass(announcement_id=row.id, class_id=c) for c in class_ids)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="updateAnnouncement",
        entity_type="Announcement",
        entity_id=row.id,
        before=before,
        after=_snapshot(row, class_ids),
        school_id=row.school_id,
    )
    _tell(session, row, "updated")
    return row


def _invalid_state(message: str) -> None:
    raise DomainError(ErrorCode.INVALID_STATE, message, field="announcementId")


async def withdraw_announcement(session: AsyncSession, *, actor: Actor, announcement_id: int) -> Announcement:
    """Take it down: hidden from the list at once; its author and the school's admins
    still reach it by ID. Withdrawing twice changes nothing."""
    row, class_ids = await _to_edit(session, actor=actor, announcement_id=announcement_id)
    if row.withdrawn_at is not None:
        return row
    row.withdrawn_at = dt.datetime.now(dt.UTC)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="withdrawAnnouncement",
        entity_type="Announcement",
        entity_id=row.id,
        before={"withdrawn": False},
        after={"withdrawn": True, "class_ids": class_ids},
        school_id=row.school_id,
    )
    _tell(session, row, "withdrawn")
    return row


# --- addressees ----------------------------------------------------------------------------


async def addressees(session: AsyncSession, *, row: Announcement, class_ids: Sequence[int]) -> list[User]:
    """Every user the announcement is addressed to, once each, in one statement: the
    school's staff (SCHOOL, STAFF) or the classes' teachers and the school's admins
    (CLASSES); and for SCHOOL and CLASSES the guardians and own logins of the children
    enrolled today (the school's today) in the school's or those classes."""
    today = await school_today(session, row.school_id)
    active_staff = select(StaffMembership.user_id).where(
        StaffMembership.school_id == row.school_id,
        StaffMembership.active.is_(True),
        StaffMembership.role.in_(_STAFF_ROLES),
    )
    parts: list[Select[Any]] = []
    if row.audience == AnnouncementAudience.CLASSES:
        parts.append(
            select(StaffMembership.user_id).where(
                StaffMembership.school_id == row.school_id,
                StaffMembership.active.is_(True),
                StaffMembership.role == StaffRole.SCHOOL_ADMIN,
            )
        )
        parts.append(
            select(TeachingAssignment.teacher_id).where(
                TeachingAssignment.class_id.in_(class_ids), TeachingAssignment.teacher_id.in_(active_staff)
            )
        )
        parts.append(
            select(SchoolClass.homeroom_teacher_id).where(
                SchoolClass.id.in_(class_ids), SchoolClass.homeroom_teacher_id.in_(active_staff)
            )
        )
        enrolled = select(Enrollment.child_id).where(
            Enrollment.class_id.in_(class_ids), *diary_facts.enrolled_on(today)
        )
    else:
        parts.append(active_staff)
        enrolled = (
            select(Enrollment.child_id)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(SchoolClass.school_id == row.school_id, *diary_facts.enrolled_on(today))
        )
    if row.audience != AnnouncementAudience.STAFF:
        parts.append(select(Guardianship.parent_id).where(Guardianship.child_id.in_(enrolled)))
        parts.append(select(Child.user_id).where(Child.id.in_(enrolled), Child.user_id.is_not(None)))
    ids = union(*parts).subquery()
    return list((await session.scalars(select(User).where(User.id.in_(select(ids.c[0]))).order_by(User.id))).all())


# --- per-request loaders ----------------------------------------------------------------------


async def attachments(session: AsyncSession, announcement_ids: list[int]) -> list[tuple[int, Attachment]]:
    rows = await session.execute(
        select(AnnouncementAttachment.announcement_id, Attachment)
        .join(Attachment, Attachment.id == AnnouncementAttachment.attachment_id)
        .where(AnnouncementAttachment.announcement_id.in_(announcement_ids))
        .order_by(AnnouncementAttachment.id)
    )
    return list(rows.all())
