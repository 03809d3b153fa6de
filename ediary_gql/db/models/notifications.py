"""Notification inbox entries and their per-channel deliveries (the outbox).

The inbox is hash-partitioned by recipient on PostgreSQL (db/partitioning.py, docs/scaling.md
"Partitioning"): it is read by its user only, and users are held by no one school. A
delivery carries its notification's `user_id`, so that its reference names the partition.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, UtcDateTime, str_enum, utcnow
from ediary_gql.db.models.enums import Channel, DeliveryStatus, NotificationKind


class Notification(CreatedAtMixin, Base):
    __tablename__ = "notifications"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # The inbox, newest first, and the parent key of the deliveries' reference (SQLite
        # wants a unique index there): on PostgreSQL the primary key (user_id, id) is it.
        partitioning.sqlite_only(Index("ix_notifications_user_id", "user_id", "id", unique=True)),
        # The inbox, unread only.
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        partitioning.by_id("notifications"),
        partitioning.partitioned_by("user_id"),
    )


partitioning.register(Notification.__table__)


class NotificationDelivery(Base):
    """One notification sent through one channel; the dispatcher works this table."""

    __tablename__ = "notification_deliveries"

    id: Mapped[IntPk]
    # The notification's recipient, copied when the delivery is made: the partition key of
    # the notification it refers to, (user_id, notification_id) → notifications (user_id, id).
    user_id: Mapped[int] = mapped_column(BigId)
    notification_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    address: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # The same reference on both backends (one schema for Alembic to compare); SQLite
        # has a unique index on notifications (user_id, id) for it, PostgreSQL the key.
        ForeignKeyConstraint(
            ["user_id", "notification_id"], ["notifications.user_id", "notifications.id"], ondelete="CASCADE"
        ),
        # notification_id alone is unique among users: the pair stays valid as it was.
        UniqueConstraint("notification_id", "channel"),
        # The reference's own index: a notification's deletion cascades by both columns.
        Index("ix_notification_deliveries_user_id_notification_id", "user_id", "notification_id"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )


class OutboxMessage(CreatedAtMixin, Base):
    """What the development channel "sent": read with `ediary-gql outbox`."""

    __tablename__ = "outbox_messages"

    id: Mapped[IntPk]
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
