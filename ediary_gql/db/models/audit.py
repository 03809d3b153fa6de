"""The audit trail: who changed what, when, from where, before and after.

Range-partitioned by `created_at` on PostgreSQL, a partition a month (db/partitioning.py,
docs/scaling.md "Partitioning"): the retention drops whole old months, and the views
(by school, entity or actor, newest first) page by `(created_at, id)`, so a page's
statement is bounded in time and reads the months it needs. By time, not by school:
portal-wide entries have no school.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk


class AuditEntry(CreatedAtMixin, Base):
    __tablename__ = "audit_entries"

    id: Mapped[IntPk]
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    school_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("schools.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))  # the mutation / workflow name
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # each view's filter, then its order (newest first: created_at, id)
        Index("ix_audit_entries_created_at", "created_at", "id"),
        Index("ix_audit_entries_school_id", "school_id", "created_at", "id"),
        Index("ix_audit_entries_entity", "entity_type", "entity_id", "created_at"),
        Index("ix_audit_entries_actor_user_id", "actor_user_id", "created_at", "id"),
        partitioning.partitioned_by_month("created_at"),
    )


partitioning.register(AuditEntry.__table__)
