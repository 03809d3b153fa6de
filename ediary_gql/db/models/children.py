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
    UtcDateTime,
    str_enum,
)
from ediary_gql.db.models._checks import nullable_only_chars, only_chars
from ediary_gql.db.models.enums import ChildTransferStatus, Sex


class Child(TimestampsMixin, Base):
    __tablename__ = "children"

    id: Mapped[IntPk]
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    # 11 digits without separators; the checksum is the services' job. Unique within the
    # school that holds the record, not across schools (services/child_transfers.py).
    snils: Mapped[str | None] = mapped_column(String(11))
    # Optional only because roster imports may not carry them; an approved
    # application always fills them.
    birth_cert_series: Mapped[str | None] = mapped_column(String(16))
    birth_cert_number: Mapped[str | None] = mapped_column(String(16))
    birth_cert_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    citizenship: Mapped[str] = mapped_column(String(3), default="643", server_default="643")
    # The student's own login.
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    # The school that holds this record: the only one that creates, updates or imports it.
    # A record moves to another school only through a confirmed ChildTransfer.
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="SET NULL"))
    # Set by roster imports: the integrator's id for this child at this school.
    external_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("school_id", "snils"),
        UniqueConstraint("school_id", "birth_cert_series", "birth_cert_number"),
        UniqueConstraint("school_id", "external_id"),
        # a new record's documents are looked up across schools to offer a transfer
        Index("ix_children_snils", "snils"),
        Index("ix_children_birth_cert", "birth_cert_series", "birth_cert_number"),
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


class ChildTransfer(CreatedAtMixin, Base):
    """A school's new record (`record_id`) whose SNILS or birth certificate matches a
    record another school holds (`child_id`). Until the holding school's admin or one of
    the child's guardians confirms it, each school keeps its own record and neither reads
    the other's; confirming merges the new record into the held one, which moves to the
    new school."""

    __tablename__ = "child_transfers"

    id: Mapped[IntPk]
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"), index=True)
    # the new school's record; null once merged into `child_id`
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("children.id", ondelete="SET NULL"), index=True)
    from_school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    to_school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    application_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ChildTransferStatus] = mapped_column(
        str_enum(ChildTransferStatus), default=ChildTransferStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(String(2000))

    __table_args__ = (Index("ix_child_transfers_from_school_id", "from_school_id", "status", "id"),)
