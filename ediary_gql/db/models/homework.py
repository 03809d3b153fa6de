"""Homework given at a lesson, its files, and who has done it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
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
    utcnow,
)


class Homework(TimestampsMixin, Base):
    __tablename__ = "homeworks"

    id: Mapped[IntPk]
    # The lesson's school, copied with the lesson's id: lessons are partitioned by it, so
    # the reference to a lesson is (school_id, lesson_id), on both backends (on SQLite to
    # the unique index `referable_key` gives lessons there).
    school_id: Mapped[int] = mapped_column(BigId)
    # the reference's index (the lesson's id is selective)
    lesson_id: Mapped[int] = mapped_column(BigId, index=True)
    # Copied from the lesson, for the diary's "due on" queries.
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="RESTRICT"))
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="RESTRICT"), index=True)
    text: Mapped[str] = mapped_column(Text)
    published_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    expected_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (
        ForeignKeyConstraint(["school_id", "lesson_id"], ["lessons.school_id", "lessons.id"], ondelete="CASCADE"),
        Index("ix_homeworks_class_due", "class_id", "due_on"),
        CheckConstraint("published_on <= due_on", name="dates"),
        CheckConstraint(
            "expected_minutes IS NULL OR expected_minutes BETWEEN 1 AND 600",
            name="expected_minutes",
        ),
    )


class HomeworkAttachment(CreatedAtMixin, Base):
    __tablename__ = "homework_attachments"

    id: Mapped[IntPk]
    # The homework's school, copied when the file is attached: the row reaches its school
    # without a join, ready for sharding by school (docs/scaling.md "Partitioning").
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    homework_id: Mapped[int] = mapped_column(BigId, ForeignKey("homeworks.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (
        UniqueConstraint("homework_id", "attachment_id"),
        # the school's reference, and a school's files by homework
        Index("ix_homework_attachments_school_homework", "school_id", "homework_id"),
    )


class HomeworkCompletion(Base):
    """A child has done a homework (marked by the child or a parent)."""

    __tablename__ = "homework_completions"

    id: Mapped[IntPk]
    # The homework's school, copied when it is marked done (as on the attachments above).
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    homework_id: Mapped[int] = mapped_column(BigId, ForeignKey("homeworks.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"), index=True)
    done_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    marked_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (
        UniqueConstraint("homework_id", "child_id"),
        # the school's reference, and a school's completions by homework
        Index("ix_homework_completions_school_homework", "school_id", "homework_id"),
    )
