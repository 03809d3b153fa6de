"""Subjects, classes ("5А") and who teaches which subject in which class."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk


class Subject(CreatedAtMixin, Base):
    __tablename__ = "subjects"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("school_id", "name"),
        UniqueConstraint("school_id", "external_id"),
    )


class SchoolClass(CreatedAtMixin, Base):
    __tablename__ = "school_classes"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    academic_year_id: Mapped[int] = mapped_column(BigId, ForeignKey("academic_years.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(SmallInteger)
    letter: Mapped[str] = mapped_column(String(4))  # "А"
    homeroom_teacher_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("academic_year_id", "level", "letter"),
        UniqueConstraint("school_id", "external_id"),
        Index("ix_school_classes_school_level", "school_id", "level", "letter"),
        CheckConstraint("level BETWEEN 1 AND 11", name="level"),
        CheckConstraint("length(letter) >= 1", name="letter"),
    )

    @property
    def name(self) -> str:
        return f"{self.level}{self.letter}"


class TeachingAssignment(CreatedAtMixin, Base):
    """A teacher teaches a subject in a class."""

    __tablename__ = "teaching_assignments"

    id: Mapped[IntPk]
    teacher_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="CASCADE"), index=True)

    __table_args__ = (
        # Also serves "what does this teacher teach".
        UniqueConstraint("teacher_id", "class_id", "subject_id"),
        # "who teaches this class (this subject)".
        Index("ix_teaching_assignments_class_subject", "class_id", "subject_id"),
    )
