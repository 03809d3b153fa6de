"""Reports: the requested ones and their files, the templates that shape them, and the
remarks teachers add to a child's period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, TimestampsMixin, UtcDateTime, str_enum
from ediary_gql.db.models.enums import (
    ReportFormat,
    ReportGrouping,
    ReportKind,
    ReportScope,
    ReportStatus,
)


class Report(CreatedAtMixin, Base):
    """One requested report. The queue is the rows QUEUED, and the rows RUNNING whose
    lease (`lease_until`) has run out because their worker stopped."""

    __tablename__ = "reports"

    id: Mapped[IntPk]
    requested_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReportKind] = mapped_column(str_enum(ReportKind))
    scope: Mapped[ReportScope] = mapped_column(str_enum(ReportScope))
    # The child's, class's or school's id, per `scope` (no FK: it points at one of three).
    scope_id: Mapped[int] = mapped_column(BigId)
    period_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("periods.id", ondelete="SET NULL"), index=True)
    # Taken from the period when one is given.
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    format: Mapped[ReportFormat] = mapped_column(str_enum(ReportFormat))
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("report_templates.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.QUEUED)
    # Workers that have taken it up, counting the one at work.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    storage_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    # When a READY report's file is deleted.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_reports_requested_by_id", "requested_by_id", "id"),
        Index("ix_reports_status", "status", "id"),
        CheckConstraint("date_from <= date_to", name="dates"),
        CheckConstraint("status <> 'READY' OR storage_key IS NOT NULL", name="ready_has_file"),
    )


class ReportTemplate(TimestampsMixin, Base):
    """A school's shape for reports of one kind: the columns in their order, the grouping,
    and whether teachers' comments and remarks are included. At most one per school and
    kind is the default; without one the built-in default applies."""

    __tablename__ = "report_templates"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[ReportKind] = mapped_column(str_enum(ReportKind))
    name: Mapped[str] = mapped_column(String(120))
    # ReportColumn values, in order.
    columns: Mapped[list[str]] = mapped_column(JSON)
    group_by: Mapped[ReportGrouping] = mapped_column(str_enum(ReportGrouping))
    include_comments: Mapped[bool] = mapped_column(Boolean, default=True)
    include_remarks: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("uq_report_templates_name", "school_id", "kind", "name", unique=True),
        Index(
            "uq_report_templates_default",
            "school_id",
            "kind",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )


class ReportRemark(CreatedAtMixin, Base):
    """A teacher's explanatory remark on a child's period (optionally on one subject),
    shown in the remarks section of that child's reports."""

    __tablename__ = "report_remarks"

    id: Mapped[IntPk]
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(BigId, ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("subjects.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_report_remarks_child_period", "child_id", "period_id", "id"),)
