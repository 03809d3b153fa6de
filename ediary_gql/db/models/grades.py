"""Control types (with weights), grades and every correction to a grade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import (
    Base,
    BigId,
    IntPk,
    TimestampsMixin,
    UtcDateTime,
    str_enum,
    utcnow,
)
from ediary_gql.db.models.enums import GradeAction, GradeKind

GRADE_VALUES = ("1", "2", "3", "4", "5", "PASS", "FAIL")
_VALUES_SQL = ", ".join(f"'{v}'" for v in GRADE_VALUES)

Weight = Numeric(4, 2, asdecimal=True)


class ControlType(TimestampsMixin, Base):
    """контрольная, самостоятельная, устный ответ, домашняя … with a weight.

    Every school gets its own rows of the defaults when it is made
    (services/school_setup/subjects.py); rows with no school are portal-wide ones
    every school sees too, unless it has its own of the same code.
    """

    __tablename__ = "control_types"

    id: Mapped[IntPk]
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))  # TEST, QUIZ, ORAL, HOMEWORK …
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[Decimal] = mapped_column(Weight, default=Decimal("1.00"))

    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        # NULLs are distinct in a unique constraint: the defaults need their own.
        Index(
            "uq_control_types_default_code",
            "code",
            unique=True,
            postgresql_where=text("school_id IS NULL"),
            sqlite_where=text("school_id IS NULL"),
        ),
        CheckConstraint("weight > 0", name="weight_positive"),
    )


class Grade(TimestampsMixin, Base):
    """A mark. Hash-partitioned by school on PostgreSQL (db/partitioning.py, docs/scaling.md
    "Partitioning"): `school_id`, the class's school copied when it is given, is on every
    hot read and write of it (the diary and the journal by lesson and child, the writes by
    lesson or by id within the writer's schools), so each reads one partition."""

    __tablename__ = "grades"

    id: Mapped[IntPk]
    # The partition key: the class's school.
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="RESTRICT"))
    # Refers to (school_id, lesson_id) on PostgreSQL (lessons are partitioned by school);
    # a deleted lesson leaves its grades with no lesson (`__table_args__`).
    lesson_id: Mapped[int | None] = mapped_column(BigId)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="RESTRICT"), index=True)
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="RESTRICT"))
    period_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("periods.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[GradeKind] = mapped_column(str_enum(GradeKind), default=GradeKind.REGULAR)
    # "1".."5", or "PASS" / "FAIL" for pass-fail subjects.
    value: Mapped[str] = mapped_column(String(8))
    # The mark as a number for averages; NULL for pass/fail.
    numeric_value: Mapped[int | None] = mapped_column(SmallInteger)
    control_type_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("control_types.id", ondelete="RESTRICT"), index=True
    )
    # Copied from the control type when entered, so later weight changes keep history.
    weight: Mapped[Decimal] = mapped_column(Weight, default=Decimal("1.00"))
    comment: Mapped[str | None] = mapped_column(Text)
    teacher_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    graded_on: Mapped[dt.date] = mapped_column(Date)
    # Soft delete: a deleted grade keeps its history and leaves every average.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_grades_child_subject_date", "child_id", "subject_id", "graded_on"),
        # a child's averages over a period in every subject (Child.averages)
        Index("ix_grades_child_graded_on", "child_id", "graded_on"),
        # the diary's and the journal's grades by lesson; the reference's index
        Index("ix_grades_lesson_id", "lesson_id"),
        partitioning.by_id("grades"),
        # A deleted lesson sets lesson_id alone to NULL: the grade keeps its school (the
        # partition key, NOT NULL). PostgreSQL (15) says so with a column list; SQLite
        # cannot, so there the reference is the lesson's id alone (its primary key).
        ForeignKeyConstraint(
            ["school_id", "lesson_id"],
            ["lessons.school_id", "lessons.id"],
            ondelete="SET NULL (lesson_id)",
        ).ddl_if(dialect="postgresql"),
        ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="SET NULL").ddl_if(dialect="sqlite"),
        Index("ix_grades_class_subject_period", "class_id", "subject_id", "period_id"),
        # a school's grades over dates (statistics, reports); the school's reference
        Index("ix_grades_school_id_graded_on", "school_id", "graded_on"),
        # One live final grade per child, subject and period (or year, via the class); with
        # the partition key, as PostgreSQL wants it (a child's finals are its school's).
        Index(
            "uq_grades_period_final",
            "child_id",
            "subject_id",
            "period_id",
            "school_id",
            unique=True,
            postgresql_where=text("kind = 'PERIOD_FINAL' AND deleted_at IS NULL"),
            sqlite_where=text("kind = 'PERIOD_FINAL' AND deleted_at IS NULL"),
        ),
        Index(
            "uq_grades_year_final",
            "child_id",
            "subject_id",
            "class_id",
            "school_id",
            unique=True,
            postgresql_where=text("kind = 'YEAR_FINAL' AND deleted_at IS NULL"),
            sqlite_where=text("kind = 'YEAR_FINAL' AND deleted_at IS NULL"),
        ),
        CheckConstraint(f"value IN ({_VALUES_SQL})", name="value"),
        CheckConstraint(
            "(value IN ('PASS', 'FAIL') AND numeric_value IS NULL)"
            " OR (value = '1' AND numeric_value = 1) OR (value = '2' AND numeric_value = 2)"
            " OR (value = '3' AND numeric_value = 3) OR (value = '4' AND numeric_value = 4)"
            " OR (value = '5' AND numeric_value = 5)",
            name="numeric_value",
        ),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("kind <> 'PERIOD_FINAL' OR period_id IS NOT NULL", name="final_period"),
        partitioning.referable_key("grades", "school_id"),
        partitioning.partitioned_by("school_id"),
    )
    # The ORM's UPDATE (a correction, a deletion) then says `WHERE id = … AND school_id = …`:
    # one partition. The key is never changed, so it is matched, not counted up.
    __mapper_args__ = {"version_id_col": school_id, "version_id_generator": False}


partitioning.register(Grade.__table__)


class GradeRevision(Base):
    """One step of a grade's history: created, corrected or deleted, by whom and why."""

    __tablename__ = "grade_revisions"

    id: Mapped[IntPk]
    # The grade's school, copied with the grade's id: grades are partitioned by it, so the
    # reference to a grade is (school_id, grade_id), on both backends (on SQLite to the
    # unique index `referable_key` gives grades there).
    school_id: Mapped[int] = mapped_column(BigId)
    grade_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[GradeAction] = mapped_column(str_enum(GradeAction))
    old_value: Mapped[str | None] = mapped_column(String(8))
    new_value: Mapped[str | None] = mapped_column(String(8))
    old_comment: Mapped[str | None] = mapped_column(Text)
    new_comment: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(["school_id", "grade_id"], ["grades.school_id", "grades.id"], ondelete="CASCADE"),
        # a grade's history, in order; the reference's index (the grade's id is selective)
        Index("ix_grade_revisions_grade_id", "grade_id", "id"),
        CheckConstraint(f"old_value IS NULL OR old_value IN ({_VALUES_SQL})", name="old_value"),
        CheckConstraint(f"new_value IS NULL OR new_value IN ({_VALUES_SQL})", name="new_value"),
    )
