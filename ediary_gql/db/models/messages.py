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
    TimestampsMixin,
    UtcDateTime,
    str_enum,
    utcnow,
)
from ediary_gql.db.models.enums import AnnouncementAudience, AnnouncementKind


class Thread(CreatedAtMixin, Base):
    """A conversation at one school: about a child (`child_id`), for a class
    (`class_id`), or among the participants named when it was started."""

    __tablename__ = "threads"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # The child the conversation is about, if any.
    child_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("children.id", ondelete="SET NULL"), index=True)
    # The class whose families the conversation is with, if any.
    class_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("school_classes.id", ondelete="SET NULL"), index=True
    )
    last_message_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The newest message: threads list by it (newest activity first, a keyset by id).
    last_message_id: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (Index("ix_threads_school_id", "school_id", "last_message_at"),)


class ThreadParticipant(CreatedAtMixin, Base):
    """A member of a thread. Unread messages are those above `last_read_message_id`
    written by others; a participant who left (`left_at`) no longer sees the thread."""

    __tablename__ = "thread_participants"

    id: Mapped[IntPk]
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_read_message_id: Mapped[int | None] = mapped_column(BigId)
    left_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

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


class MessageAttachment(CreatedAtMixin, Base):
    __tablename__ = "message_attachments"

    id: Mapped[IntPk]
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (UniqueConstraint("message_id", "attachment_id"),)


class Announcement(TimestampsMixin, Base):
    """For the whole school, the classes in `AnnouncementClass`, or the staff only
    (`audience`); shown from `starts_on` to `ends_on`, unless withdrawn."""

    __tablename__ = "announcements"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    audience: Mapped[AnnouncementAudience] = mapped_column(
        str_enum(AnnouncementAudience), default=AnnouncementAudience.SCHOOL
    )
    kind: Mapped[AnnouncementKind] = mapped_column(str_enum(AnnouncementKind), default=AnnouncementKind.GENERAL)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_announcements_school_starts", "school_id", "starts_on"),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="dates"),
    )


class AnnouncementClass(Base):
    """A class an announcement with audience CLASSES is addressed to."""

    __tablename__ = "announcement_classes"

    announcement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("school_classes.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AnnouncementAttachment(CreatedAtMixin, Base):
    __tablename__ = "announcement_attachments"

    id: Mapped[IntPk]
    announcement_id: Mapped[int] = mapped_column(BigId, ForeignKey("announcements.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (UniqueConstraint("announcement_id", "attachment_id"),)
