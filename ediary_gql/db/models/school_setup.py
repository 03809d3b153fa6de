"""School setup: teacher invitations, and roster links (external IDs) for imports."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk


class TeacherInvitation(CreatedAtMixin, Base):
    """A school's admin invited someone, by phone or email, to teach there.

    A later staff-binding request for TEACHER at that school from an account
    with that phone or email shows as invited to its reviewers.
    """

    __tablename__ = "teacher_invitations"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # E.164 / normalised lower-case email; at least one is set.
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # The account the contact belonged to when invited, if any.
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)

    __table_args__ = (
        Index("ix_teacher_invitations_school_phone", "school_id", "phone"),
        Index("ix_teacher_invitations_school_email", "school_id", "email"),
        CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="contact"),
    )


class RosterLink(CreatedAtMixin, Base):
    """A school's external ID (OneRoster `sourcedId`) for a row that has no
    `external_id` column of its own: teachers and guardians (users, who may be
    known to several schools under different IDs), timetable slots, and grades and
    attendance marks synced by an integration (kept off those hot tables)."""

    __tablename__ = "roster_links"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # TEACHER, GUARDIAN, TIMETABLE_SLOT, GRADE, ATTENDANCE
    external_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        UniqueConstraint("school_id", "kind", "external_id"),
        CheckConstraint("kind IN ('TEACHER', 'GUARDIAN', 'TIMETABLE_SLOT', 'GRADE', 'ATTENDANCE')", name="kind"),
        # a row's sourcedId, read back (Grade.sourcedId)
        Index("ix_roster_links_kind_target", "kind", "target_id"),
    )
