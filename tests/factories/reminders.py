"""Reminders already sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import ReminderKind
from ediary_gql.db.models.reminders import SentReminder
from tests.factories._base import SCHOOL_YEAR_START, persist, seq, take_parents
from tests.factories.users import make_user


async def make_sent_reminder(session: AsyncSession, **overrides: Any) -> SentReminder:
    """A homework reminder, sent to a user (made if not given) for a day of the year."""
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {
        "kind": ReminderKind.HOMEWORK_DUE,
        "target_id": seq(),
        "day": SCHOOL_YEAR_START + dt.timedelta(days=7),
    }
    fields.update(o)
    return await persist(session, SentReminder(**fields))
