"""Requested reports (progress or attendance) and where their files are."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, UtcDateTime, str_enum
from ediary_gql.db.models.enums import (
    ReportFormat,
    ReportKind,
    ReportScope,
    ReportStatus,
)


class Report(CreatedAtMixin, Base):
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
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.PENDING)
    storage_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_reports_requested_by_id", "requested_by_id", "id"),
        Index("ix_reports_status", "status", "id"),
        CheckConstraint("date_from <= date_to", name="dates"),
        CheckConstraint("status <> 'READY' OR storage_key IS NOT NULL", name="ready_has_file"),
    )
