"""Personal data (152-FZ): who read a child's identity documents, and people's requests
for their own data (an export) or for its erasure."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, UtcDateTime, str_enum, utcnow


class DataRequestKind(enum.StrEnum):
    EXPORT = "EXPORT"  # everything held about the requester (and their children), as a ZIP
    ERASURE = "ERASURE"  # the requester's account, contacts, messages and files removed


class DataRequestStatus(enum.StrEnum):
    """An export: QUEUED → RUNNING → READY | FAILED, EXPIRED once its file is deleted.
    An erasure: SUBMITTED → APPROVED → DONE, or REJECTED (by an operator)."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    DONE = "DONE"


class SensitiveRead(Base):
    """One read of a child's SNILS or birth certificate: by whom, when, in which
    operation and from which address."""

    __tablename__ = "sensitive_reads"

    id: Mapped[IntPk]
    # kept when the reader's account goes: the child's family still sees that it was read
    reader_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    child_id: Mapped[int] = mapped_column(BigId, ForeignKey("children.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))  # a key of auth/personal_fields.AUDITED
    operation: Mapped[str | None] = mapped_column(String(128))  # the GraphQL operation, or "export", …
    address: Mapped[str | None] = mapped_column(String(45))
    read_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_sensitive_reads_child_read_at", "child_id", "read_at", "id"),)


class DataRequest(CreatedAtMixin, Base):
    """A person's request about their own data. Exports are made by the worker, like
    reports (the queue is the rows QUEUED, and RUNNING ones whose lease ran out);
    erasures wait for an operator's decision."""

    __tablename__ = "data_requests"

    id: Mapped[IntPk]
    kind: Mapped[DataRequestKind] = mapped_column(str_enum(DataRequestKind))
    # null once the requester's account is erased (the request stays as the record of it)
    requester_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    subject_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[DataRequestStatus] = mapped_column(str_enum(DataRequestStatus))
    include_children: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    reason: Mapped[str | None] = mapped_column(Text)  # the requester's words
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    decision_comment: Mapped[str | None] = mapped_column(Text)
    # the legal holds the operator states: what is kept, and why
    holds: Mapped[str | None] = mapped_column(Text)
    # what an erasure removed and anonymised (counts per table)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    storage_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_data_requests_requester_id", "requester_id", "id"),
        Index("ix_data_requests_kind_status", "kind", "status", "id"),
        CheckConstraint("status <> 'READY' OR storage_key IS NOT NULL", name="ready_has_file"),
        CheckConstraint(
            "(kind = 'EXPORT' AND status IN ('QUEUED', 'RUNNING', 'READY', 'FAILED', 'EXPIRED'))"
            " OR (kind = 'ERASURE' AND status IN ('SUBMITTED', 'APPROVED', 'REJECTED', 'DONE'))",
            name="status_of_kind",
        ),
    )
