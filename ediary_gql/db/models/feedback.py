"""Feedback tickets (обращения) to the portal's operators."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import (
    Base,
    BigId,
    CreatedAtMixin,
    IntPk,
    TimestampsMixin,
    UtcDateTime,
    str_enum,
    utcnow,
)
from ediary_gql.db.models.enums import FeedbackCategory, FeedbackStatus

ANSWER_DEADLINE = dt.timedelta(hours=24)


def _answer_due() -> dt.datetime:
    return utcnow() + ANSWER_DEADLINE


class FeedbackTicket(TimestampsMixin, Base):
    __tablename__ = "feedback_tickets"

    id: Mapped[IntPk]
    # "FB-2026-000042" (see FeedbackNumberCounter).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="SET NULL"), index=True)
    category: Mapped[FeedbackCategory] = mapped_column(str_enum(FeedbackCategory))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # Where the author wants the answer, besides the app (their account's email by default).
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[FeedbackStatus] = mapped_column(str_enum(FeedbackStatus), default=FeedbackStatus.OPEN)
    answer_due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=_answer_due)
    # The operator (or school admin) who took the ticket into work.
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    reopened_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Global (Relay) ids of the diary records the ticket is about.
    links: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (
        # The operators' queue: open tickets by deadline.
        Index("ix_feedback_tickets_status_due", "status", "answer_due_at"),
        Index("ix_feedback_tickets_author_id", "author_id", "id"),
        CheckConstraint(
            "status NOT IN ('ANSWERED', 'CLOSED') OR (answer IS NOT NULL AND answered_at IS NOT NULL)",
            name="answered",
        ),
    )


class FeedbackAttachment(CreatedAtMixin, Base):
    __tablename__ = "feedback_attachments"

    id: Mapped[IntPk]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("feedback_tickets.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (UniqueConstraint("ticket_id", "attachment_id"),)


class FeedbackNumberCounter(Base):
    """The last ticket number given per year, like ApplicationNumberCounter."""

    __tablename__ = "feedback_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint("last_value >= 0", name="last_value"),)
