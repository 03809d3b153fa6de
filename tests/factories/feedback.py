"""Feedback tickets, their files and number counters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import FeedbackCategory, FeedbackStatus
from ediary_gql.db.models.feedback import (
    FeedbackAttachment,
    FeedbackNumberCounter,
    FeedbackTicket,
)
from tests.factories._base import fake, now, persist, seq, take_parents
from tests.factories.attachments import make_attachment
from tests.factories.users import make_operator, make_user


async def make_feedback_ticket(session: AsyncSession, **overrides: Any) -> FeedbackTicket:
    """An OPEN ticket (ANSWERED gets an operator's answer) with no school."""
    o = take_parents(overrides)
    if "author_id" not in o:
        o["author_id"] = (await make_user(session)).id
    n = seq()
    status = o.get("status", FeedbackStatus.OPEN)
    fields: dict[str, Any] = {
        "number": f"FB-{now().year}-{n % 1_000_000:06d}",
        "category": FeedbackCategory.TECHNICAL,
        "subject": "Не отображаются оценки",
        "text": fake.paragraph(nb_sentences=3),
        "status": status,
        "links": [],
    }
    if status is not FeedbackStatus.OPEN and "answered_by_id" not in o:
        fields |= {
            "answer": "Спасибо за обращение, ошибка исправлена.",
            "answered_by_id": (await make_operator(session)).id,
            "answered_at": now(),
        }
    fields.update(o)
    return await persist(session, FeedbackTicket(**fields))


async def make_feedback_attachment(session: AsyncSession, **overrides: Any) -> FeedbackAttachment:
    o = take_parents(overrides)
    if "ticket_id" not in o:
        o["ticket_id"] = (await make_feedback_ticket(session)).id
    if "attachment_id" not in o:
        ticket = await session.get(FeedbackTicket, o["ticket_id"])
        assert ticket is not None
        o["attachment_id"] = (await make_attachment(session, owner_id=ticket.author_id)).id
    return await persist(session, FeedbackAttachment(**o))


async def make_feedback_number_counter(session: AsyncSession, **overrides: Any) -> FeedbackNumberCounter:
    """The counter for the first year without one, from this year on."""
    o = take_parents(overrides)
    if "year" not in o:
        taken = set((await session.scalars(select(FeedbackNumberCounter.year))).all())
        o["year"] = next(y for y in range(now().year, 10_000) if y not in taken)
    fields: dict[str, Any] = {"last_value": 0}
    fields.update(o)
    return await persist(session, FeedbackNumberCounter(**fields))
