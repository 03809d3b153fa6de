"""Threads, participants, messages and announcements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import AnnouncementAudience, AnnouncementKind
from ediary_gql.db.models.messages import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementClass,
    Message,
    MessageAttachment,
    Thread,
    ThreadParticipant,
)
from tests.factories._base import SCHOOL_YEAR_START, fake, now, persist, take_parents
from tests.factories.attachments import make_attachment
from tests.factories.classes import make_school_class
from tests.factories.schools import make_school, make_school_admin
from tests.factories.users import make_user


async def make_thread(session: AsyncSession, **overrides: Any) -> Thread:
    """A conversation at a school (made if not given); participants are added apart."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "created_by_id" not in o:
        o["created_by_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {
        "subject": fake.sentence(nb_words=4).rstrip("."),
        "last_message_at": now(),
    }
    fields.update(o)
    return await persist(session, Thread(**fields))


async def make_thread_participant(session: AsyncSession, **overrides: Any) -> ThreadParticipant:
    o = take_parents(overrides)
    if "thread_id" not in o:
        o["thread_id"] = (await make_thread(session)).id
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    return await persist(session, ThreadParticipant(**o))


async def make_message(session: AsyncSession, **overrides: Any) -> Message:
    o = take_parents(overrides)
    if "thread_id" not in o:
        o["thread_id"] = (await make_thread(session)).id
    if "author_id" not in o:
        thread = await session.get(Thread, o["thread_id"])
        assert thread is not None
        o["author_id"] = thread.created_by_id
    fields: dict[str, Any] = {"body": fake.paragraph(nb_sentences=2)}
    fields.update(o)
    return await persist(session, Message(**fields))


async def make_announcement(session: AsyncSession, **overrides: Any) -> Announcement:
    """A school-wide notice from a school admin (made if not given)."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "author_id" not in o:
        o["author_id"] = (await make_school_admin(session, school_id=o["school_id"])).id
    fields: dict[str, Any] = {
        "kind": AnnouncementKind.MEETING,
        "title": "Родительское собрание",
        "body": fake.paragraph(nb_sentences=3),
        "starts_on": SCHOOL_YEAR_START + dt.timedelta(days=14),
        "ends_on": None,
    }
    fields.update(o)
    return await persist(session, Announcement(**fields))


async def make_message_attachment(session: AsyncSession, **overrides: Any) -> MessageAttachment:
    o = take_parents(overrides)
    if "message_id" not in o:
        o["message_id"] = (await make_message(session)).id
    if "attachment_id" not in o:
        message = await session.get(Message, o["message_id"])
        assert message is not None
        o["attachment_id"] = (await make_attachment(session, owner_id=message.author_id)).id
    return await persist(session, MessageAttachment(**o))


async def make_announcement_class(session: AsyncSession, **overrides: Any) -> AnnouncementClass:
    """A class an announcement (made for its school, audience CLASSES, if not given) is for."""
    o = take_parents(overrides)
    if "announcement_id" not in o:
        school_class = await make_school_class(session)
        o["announcement_id"] = (
            await make_announcement(session, school_id=school_class.school_id, audience=AnnouncementAudience.CLASSES)
        ).id
        o.setdefault("class_id", school_class.id)
    if "class_id" not in o:
        announcement = await session.get(Announcement, o["announcement_id"])
        assert announcement is not None
        o["class_id"] = (await make_school_class(session, school_id=announcement.school_id)).id
    return await persist(session, AnnouncementClass(**o))


async def make_announcement_attachment(session: AsyncSession, **overrides: Any) -> AnnouncementAttachment:
    o = take_parents(overrides)
    if "announcement_id" not in o:
        o["announcement_id"] = (await make_announcement(session)).id
    if "attachment_id" not in o:
        announcement = await session.get(Announcement, o["announcement_id"])
        assert announcement is not None
        o["attachment_id"] = (await make_attachment(session, owner_id=announcement.author_id)).id
    return await persist(session, AnnouncementAttachment(**o))
