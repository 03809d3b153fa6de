"""Conversations between families and staff, and school or class announcements."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
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
    UtcDateTime,
    str_enum,
    utcnow,
)
from ediary_gql.db.models.enums import AnnouncementKind


class Thread(CreatedAtMixin, Base):
    __tablename__ = "threads"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # The child the conversation is about, if any.
    child_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("children.id", ondelete="SET NULL"), index=True)
    last_message_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_threads_school_id", "school_id", "last_message_at"),)


class ThreadParticipant(CreatedAtMixin, Base):
    __tablename__ = "thread_participants"

    id: Mapped[IntPk]
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)


class Message(CreatedAtMixin, Base):
    __tablename__ = "messages"

    id: Mapped[IntPk]
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_messages_thread_id", "thread_id", "id"),
        CheckConstraint("length(body) >= 1", name="body_not_empty"),
    )


class Announcement(CreatedAtMixin, Base):
    """For the whole school, or for one class when `class_id` is set."""

    __tablename__ = "announcements"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="CASCADE"))
    kind: Mapped[AnnouncementKind] = mapped_column(str_enum(AnnouncementKind), default=AnnouncementKind.GENERAL)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (
        Index("ix_announcements_school_starts", "school_id", "starts_on"),
        Index("ix_announcements_class_starts", "class_id", "starts_on"),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="dates"),
    )
