"""Parents' applications (заявки) for diary access, their files, history and numbers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
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
from ediary_gql.db.models._checks import nullable_only_chars
from ediary_gql.db.models.enums import (
    ApplicationAction,
    ApplicationAttachmentKind,
    ApplicationStatus,
    Sex,
)


class Application(TimestampsMixin, Base):
    """A draft is free-form; submitting validates every field (in the service)."""

    __tablename__ = "applications"

    id: Mapped[IntPk]
    # "ED-2026-000123", given on first submission (see ApplicationNumberCounter).
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    applicant_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[ApplicationStatus] = mapped_column(str_enum(ApplicationStatus), default=ApplicationStatus.DRAFT)
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="RESTRICT"))
    class_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("school_classes.id", ondelete="RESTRICT"), index=True
    )
    region_code: Mapped[str | None] = mapped_column(
        String(2), ForeignKey("regions.code", ondelete="RESTRICT"), index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("settlements.id", ondelete="RESTRICT"), index=True
    )

    child_last_name: Mapped[str | None] = mapped_column(String(100))
    child_first_name: Mapped[str | None] = mapped_column(String(100))
    child_middle_name: Mapped[str | None] = mapped_column(String(100))
    child_birth_date: Mapped[dt.date | None] = mapped_column(Date)
    child_sex: Mapped[Sex | None] = mapped_column(str_enum(Sex))
    child_snils: Mapped[str | None] = mapped_column(String(11))
    birth_cert_series: Mapped[str | None] = mapped_column(String(16))
    birth_cert_number: Mapped[str | None] = mapped_column(String(16))
    birth_cert_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    citizenship: Mapped[str | None] = mapped_column(String(3), default="643")

    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # 5 working days after submission, 10 once extended.
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # The child the approval created or matched.
    child_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("children.id", ondelete="SET NULL"), index=True)
    # Optimistic locking: a stale UPDATE raises StaleDataError.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        # The school's review queue, by status and deadline.
        Index("ix_applications_school_status_due", "school_id", "status", "due_on"),
        # myApplications, newest first.
        Index("ix_applications_applicant_id", "applicant_id", "id"),
        CheckConstraint(nullable_only_chars("child_snils", 11), name="child_snils_digits"),
        CheckConstraint(nullable_only_chars("citizenship", 3), name="citizenship_digits"),
        CheckConstraint(
            "status = 'DRAFT' OR (number IS NOT NULL AND submitted_at IS NOT NULL"
            " AND due_on IS NOT NULL AND school_id IS NOT NULL)",
            name="submitted",
        ),
        CheckConstraint(
            "status <> 'REJECTED' OR rejection_reason IS NOT NULL",
            name="rejection_reason",
        ),
        CheckConstraint("status <> 'APPROVED' OR child_id IS NOT NULL", name="approved_child"),
    )


class ApplicationAttachment(CreatedAtMixin, Base):
    __tablename__ = "application_attachments"

    id: Mapped[IntPk]
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ApplicationAttachmentKind] = mapped_column(str_enum(ApplicationAttachmentKind))

    __table_args__ = (UniqueConstraint("application_id", "attachment_id"),)


def _status_column(name: str) -> Enum:
    # Two columns of one enum in one table need CHECK constraints of their own names.
    column_type = str_enum(ApplicationStatus)
    column_type.name = name
    return column_type


class ApplicationEvent(CreatedAtMixin, Base):
    """One step of an application's history: a transition or an edit."""

    __tablename__ = "application_events"

    id: Mapped[IntPk]
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("applications.id", ondelete="CASCADE"))
    from_status: Mapped[ApplicationStatus | None] = mapped_column(_status_column("from_status"))
    to_status: Mapped[ApplicationStatus] = mapped_column(_status_column("to_status"))
    action: Mapped[ApplicationAction] = mapped_column(str_enum(ApplicationAction))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_application_events_application_id", "application_id", "id"),)


class ApplicationNumberCounter(Base):
    """The last number given per year: `UPDATE … SET last_value = last_value + 1`."""

    __tablename__ = "application_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint("last_value >= 0", name="last_value"),)
