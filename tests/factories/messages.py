"""Threads, participants, messages and announcements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import AnnouncementKind
from ediary_gql.db.models.messages import Announcement, Message, Thread, ThreadParticipant
from tests.factories._base import SCHOOL_YEAR_START, fake, now, persist, take_parents
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
