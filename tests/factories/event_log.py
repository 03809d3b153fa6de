"""Rows of the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.event_log import EventLogHead, EventRecord
from ediary_gql.events import channels
from tests.factories._base import persist, seq, take_parents


async def make_event_record(session: AsyncSession, **overrides: Any) -> EventRecord:
    """An event appended and not yet placed (no position)."""
    o = take_parents(overrides)
    n = seq()
    fields: dict[str, Any] = {
        "channel": channels.child_grades(n),
        "kind": "grade.changed",
        "payload": {"grade_id": n, "child_id": n, "class_id": n, "school_id": n, "action": "CREATED"},
    }
    fields.update(o)
    return await persist(session, EventRecord(**fields))


async def make_event_log_head(session: AsyncSession, **overrides: Any) -> EventLogHead:
    """The relay's one row (made again if a test wiped it)."""
    o = take_parents(overrides)
    existing = await session.get(EventLogHead, o.get("id", 1))
    if existing is not None:
        return existing
    return await persist(session, EventLogHead(**{"id": 1, "last_position": 0, **o}))
