"""Children, their class enrolments and their guardians (parents)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import (
    Base,
    BigId,
    CreatedAtMixin,
    IntPk,
    TimestampsMixin,
    str_enum,
)
from ediary_gql.db.models._checks import nullable_only_chars, only_chars
from ediary_gql.db.models.enums import Sex


class Child(TimestampsMixin, Base):
    __tablename__ = "children"

    id: Mapped[IntPk]
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    # 11 digits without separators; the checksum is the services' job.
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)
    # Optional only because roster imports may not carry them; an approved
    # application always fills them.
    birth_cert_series: Mapped[str | None] = mapped_column(String(16))
    birth_cert_number: Mapped[str | None] = mapped_column(String(16))
    birth_cert_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    citizenship: Mapped[str] = mapped_column(String(3), default="643", server_default="643")
    # The student's own login.
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    # Set by roster imports: the integrator's id for this child at this school.
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("birth_cert_series", "birth_cert_number"),
        UniqueConstraint("school_id", "external_id"),
        Index("ix_children_name", "last_name", "first_name"),
        CheckConstraint(nullable_only_chars("snils", 11), name="snils_digits"),
        CheckConstraint(only_chars("citizenship", 3), name="citizenship_digits"),
        CheckConstraint(
            "(birth_cert_series IS NULL) = (birth_cert_number IS NULL)",
            name="birth_cert",
        ),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Enrollment(CreatedAtMixin, Base):
    """A child is in a class from `starts_on` until `ends_on` (open while null)."""

    __tablename__ = "enrollments"

    id: Mapped[IntPk]
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(BigId, ForeignKey("school_classes.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_enrollments_class_id", "class_id", "ends_on"),
        Index("ix_enrollments_child_id", "child_id", "starts_on"),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="dates"),
    )


class Guardianship(CreatedAtMixin, Base):
    """A parent (legal representative) of a child: made when an application is approved."""

    __tablename__ = "guardianships"

    id: Mapped[IntPk]
    parent_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (UniqueConstraint("parent_id", "child_id"),)
