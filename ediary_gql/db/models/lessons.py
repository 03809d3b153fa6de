"""Weekly timetable templates and the lessons (made by hand or generated from them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import (
    Base,
    BigId,
    CreatedAtMixin,
    IntPk,
    TimestampsMixin,
    str_enum,
)
from ediary_gql.db.models.enums import LessonStatus


class TimetableTemplate(CreatedAtMixin, Base):
    """A class's weekly timetable for a period; `generateLessons` turns it into lessons."""

    __tablename__ = "timetable_templates"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(BigId, ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)

    __table_args__ = (Index("ix_timetable_templates_class_period", "class_id", "period_id"),)


class TimetableSlot(Base):
    __tablename__ = "timetable_slots"

    id: Mapped[IntPk]
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("timetable_templates.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO: 1 = Monday … 7 = Sunday
    lesson_number: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="RESTRICT"), index=True)
    teacher_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    room: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("template_id", "weekday", "start_time"),
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        CheckConstraint("lesson_number BETWEEN 0 AND 20", name="lesson_number"),
        CheckConstraint("start_time < end_time", name="times"),
    )


class Lesson(TimestampsMixin, Base):
    """A lesson. Hash-partitioned by school on PostgreSQL (db/partitioning.py, docs/scaling.md
    "Partitioning"): the timetable, the journal and the diary are a class's or a teacher's
    lessons, all of one school, so they name `school_id` and read one partition. Grades,
    attendance and homework refer to a lesson by (school_id, lesson_id)."""

    __tablename__ = "lessons"

    id: Mapped[IntPk]
    # The partition key: the class's school.
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="RESTRICT"))
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="RESTRICT"))
    teacher_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    date: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    lesson_number: Mapped[int | None] = mapped_column(SmallInteger)
    room: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[LessonStatus] = mapped_column(str_enum(LessonStatus), default=LessonStatus.SCHEDULED)
    substitute_teacher_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("timetable_templates.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # Exact duplicates are refused; this also serves lookups by (class_id, date).
        # Overlaps (a teacher, class or room booked twice at once) are checked by the
        # service with the indexes below. With the partition key, as PostgreSQL wants it
        # (a class is one school's, so it refuses what it refused before).
        UniqueConstraint("class_id", "date", "start_time", "school_id"),
        UniqueConstraint("school_id", "external_id"),
        Index("ix_lessons_teacher_date", "teacher_id", "date", "start_time"),
        Index("ix_lessons_substitute_date", "substitute_teacher_id", "date"),
        Index("ix_lessons_school_room_date", "school_id", "room", "date"),
        Index("ix_lessons_subject_class_date", "subject_id", "class_id", "date"),
        CheckConstraint("start_time < end_time", name="times"),
        CheckConstraint(
            "lesson_number IS NULL OR lesson_number BETWEEN 0 AND 20",
            name="lesson_number",
        ),
        # A lesson looked for by its id alone (a mutation's lessonId, a loader): the
        # primary key (school_id, id) cannot serve that on PostgreSQL, so each partition
        # has an index on id; on SQLite the primary key is id.
        partitioning.by_id("lessons"),
        partitioning.referable_key("lessons", "school_id"),
        partitioning.partitioned_by("school_id"),
    )
    # No `version_id_col` on school_id (as grades have): the ORM would then flush each
    # changed lesson as an UPDATE of its own, and syncLessons changes hundreds at once.
    # An UPDATE by id alone probes each partition's ix_lessons_id.


partitioning.register(Lesson.__table__)
