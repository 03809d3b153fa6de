"""Attendance: one mark per child per lesson.

Hash-partitioned by school on PostgreSQL (db/partitioning.py, docs/scaling.md
"Partitioning"): every access path is within one school (the journal by lesson, the
diary by child, the upsert by lesson), so each carries `school_id`, copied from the
lesson on insert, and reads one partition; the row reaches its school without a join.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, BigId, IntPk, UtcDateTime, str_enum, utcnow
from ediary_gql.db.models.enums import AttendanceStatus


class Attendance(Base):
    __tablename__ = "attendances"

    id: Mapped[IntPk]
    # The partition key: the lesson's school, copied when the mark is made.
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="RESTRICT"))
    # Refers to (school_id, lesson_id): lessons are partitioned by school too.
    lesson_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus))
    minutes_late: Mapped[int | None] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    marked_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    marked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        # With the partition key, as PostgreSQL wants it; the upsert's ON CONFLICT target.
        UniqueConstraint("child_id", "lesson_id", "school_id"),
        ForeignKeyConstraint(["school_id", "lesson_id"], ["lessons.school_id", "lessons.id"], ondelete="CASCADE"),
        # the journal's marks by lesson; the reference's index (the lesson's id is selective)
        Index("ix_attendances_lesson_id", "lesson_id"),
        partitioning.by_id("attendances"),
        CheckConstraint(
            "minutes_late IS NULL OR minutes_late BETWEEN 1 AND 300",
            name="minutes_late",
        ),
        CheckConstraint("minutes_late IS NULL OR status = 'LATE'", name="minutes_late_status"),
        partitioning.partitioned_by("school_id"),
    )


partitioning.register(Attendance.__table__)
