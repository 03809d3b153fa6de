"""Uploaded files (PDF, JPG, PNG up to 5 MB); the bytes live in the storage backend."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk
from ediary_gql.db.models._checks import HEX_LOWER, only_chars

ALLOWED_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


class Attachment(CreatedAtMixin, Base):
    __tablename__ = "attachments"

    id: Mapped[IntPk]
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"))
    file_name: Mapped[str] = mapped_column(String(255))
    # Detected from the content, never taken from the name or the client.
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # lower-case hex
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)

    __table_args__ = (
        Index("ix_attachments_owner_id", "owner_id", "id"),
        CheckConstraint(
            "content_type IN ({})".format(", ".join(f"'{t}'" for t in ALLOWED_CONTENT_TYPES)),
            name="content_type",
        ),
        CheckConstraint(f"size_bytes BETWEEN 1 AND {MAX_ATTACHMENT_BYTES}", name="size"),
        CheckConstraint(only_chars("sha256", 64, HEX_LOWER), name="sha256_hex"),
    )
