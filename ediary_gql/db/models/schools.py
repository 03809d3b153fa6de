"""Schools, their staff memberships and staff-binding requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
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
from ediary_gql.db.models._checks import nullable_only_chars, only_chars
from ediary_gql.db.models.enums import (
    LaunchMode,
    SchoolStatus,
    SchoolType,
    StaffBindingStatus,
    StaffDocumentKind,
    StaffRole,
)


class School(TimestampsMixin, Base):
    __tablename__ = "schools"

    id: Mapped[IntPk]
    full_name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str] = mapped_column(String(200))
    # geo.normalize_name(full_name + short_name): search by name ignoring case and ё.
    name_normalized: Mapped[str] = mapped_column(String(800))
    type: Mapped[SchoolType] = mapped_column(str_enum(SchoolType), default=SchoolType.SCHOOL)
    inn: Mapped[str] = mapped_column(String(10), unique=True)
    okpo: Mapped[str] = mapped_column(String(8))
    kpp: Mapped[str | None] = mapped_column(String(9))
    address: Mapped[str] = mapped_column(String(500))
    settlement_id: Mapped[int] = mapped_column(BigId, ForeignKey("settlements.id", ondelete="RESTRICT"))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow", server_default="Europe/Moscow")
    status: Mapped[SchoolStatus] = mapped_column(str_enum(SchoolStatus), default=SchoolStatus.PENDING)
    launch_mode: Mapped[LaunchMode] = mapped_column(str_enum(LaunchMode), default=LaunchMode.TEST)
    # Issued on activation.
    diary_uid: Mapped[str | None] = mapped_column(String(64), unique=True)
    registered_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # The operator's queue and schools(filter: {status}) paged by id.
        Index("ix_schools_status", "status", "id"),
        Index("ix_schools_settlement_id", "settlement_id", "status"),
        Index(
            "ix_schools_name_normalized",
            "name_normalized",
            postgresql_ops={"name_normalized": "text_pattern_ops"},
        ),
        # Checksums are the services' job (python-stdnum); the shape is kept here.
        CheckConstraint(only_chars("inn", 10), name="inn_digits"),
        CheckConstraint(only_chars("okpo", 8), name="okpo_digits"),
        CheckConstraint(nullable_only_chars("kpp", 9), name="kpp_digits"),
        CheckConstraint(
            "status <> 'REJECTED' OR rejection_reason IS NOT NULL",
            name="rejection_reason",
        ),
        CheckConstraint("status <> 'ACTIVE' OR diary_uid IS NOT NULL", name="active_has_uid"),
    )


class StaffMembership(CreatedAtMixin, Base):
    """A user acts for a school in a role (made when a staff binding is approved)."""

    __tablename__ = "staff_memberships"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    __table_args__ = (
        UniqueConstraint("user_id", "school_id", "role"),
        Index("ix_staff_memberships_school_id", "school_id", "role"),
    )


class StaffBinding(TimestampsMixin, Base):
    """A request to act for a school in a role, with its supporting document."""

    __tablename__ = "staff_bindings"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    document_id: Mapped[int] = mapped_column(BigId, ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)
    document_kind: Mapped[StaffDocumentKind] = mapped_column(str_enum(StaffDocumentKind))
    # the requester's note for the reviewer
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[StaffBindingStatus] = mapped_column(str_enum(StaffBindingStatus), default=StaffBindingStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_staff_bindings_school_status", "school_id", "status", "id"),
        # the operators' queue: every school's requests of a status, in order
        Index("ix_staff_bindings_status_id", "status", "id"),
        CheckConstraint("status <> 'REJECTED' OR reason IS NOT NULL", name="rejection_reason"),
        CheckConstraint("status = 'PENDING' OR decided_at IS NOT NULL", name="decided_at"),
    )
