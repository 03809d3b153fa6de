"""Integrations: a school's service accounts (OAuth2 client credentials), their
secrets, and the webhooks they register with the log of each delivery."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, TimestampsMixin, UtcDateTime, str_enum, utcnow
from ediary_gql.db.models.enums import DeliveryStatus, IntegrationStatus, WebhookStatus


class Integration(TimestampsMixin, Base):
    """A third-party system acting at one school with scopes. It acts through a user row
    of its own (`user_id`: no phone, no password that works) so that what it writes is
    attributed to it, in the records and in the audit log, like any author."""

    __tablename__ = "integrations"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Public: sent with the secret to POST /oauth/token.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # IntegrationScope values.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[IntegrationStatus] = mapped_column(str_enum(IntegrationStatus), default=IntegrationStatus.ACTIVE)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_token_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class IntegrationSecret(Base):
    """A client secret, stored as its SHA-256 (it is 256 random bits, so a slow hash
    adds nothing). The current one has no `expires_at`; a rotated one keeps working
    until its grace period ends."""

    __tablename__ = "integration_secrets"

    id: Mapped[IntPk]
    integration_id: Mapped[int] = mapped_column(BigId, ForeignKey("integrations.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_integration_secrets_integration", "integration_id", "id"),)


class Webhook(TimestampsMixin, Base):
    """A receiver of a school's events. The secret signs each delivery (HMAC-SHA256), so
    it is kept as given, never shown again."""

    __tablename__ = "webhooks"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    integration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    # Event type names the receiver wants.
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(256))
    status: Mapped[WebhookStatus] = mapped_column(str_enum(WebhookStatus), default=WebhookStatus.ACTIVE)
    # Deliveries that failed for good since the last success; at the limit it is disabled.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)


class WebhookDelivery(CreatedAtMixin, Base):
    """One event to one webhook: the outbox row its sender works, and its log.
    A redelivery is a new row with the same `event_id`, pointing at the one it repeats."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[IntPk]
    webhook_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhooks.id", ondelete="CASCADE"))
    # The event's stable ID (its place in the event log), for the receiver to deduplicate.
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    redelivery_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("webhook_deliveries.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )
