"""Reminders already sent: one row per (kind, target, recipient, day), so that every
scheduler run, in any process, sends each reminder exactly once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, str_enum
from ediary_gql.db.models.enums import ReminderKind


class SentReminder(CreatedAtMixin, Base):
    __tablename__ = "sent_reminders"

    id: Mapped[IntPk]
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind))
    # The row the reminder is about (a homework, an application, a ticket), by kind.
    target_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The day (in the school's zone) the reminder is for: a due date, or a deadline's day.
    day: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("kind", "target_id", "user_id", "day"),)
