"""Accounts: users, their sign-in sessions and verification codes, and throttling counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, IntPk, TimestampsMixin, UtcDateTime, str_enum, utcnow
from ediary_gql.db.models.enums import UserStatus


class User(TimestampsMixin, Base):
    __tablename__ = "users"

    id: Mapped[IntPk]
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus), default=UserStatus.TEMPORARY, index=True)
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    phone_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    consent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # {"GRADE": ["PUSH", "EMAIL"], ...}: channels per notification kind.
    notification_prefs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Secret part of the personal calendar feed URL; rotating it revokes the feed.
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_users_name", "last_name", "first_name"),)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class AuthSession(Base):
    """One signed-in device: the refresh token's hash and its revocation."""

    __tablename__ = "auth_sessions"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    refresh_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(45))
    # With read replicas: the primary's WAL position (bytes) after this session's last write.
    # Every token check reads it on the primary, so in any API process the session's reads
    # wait for a replica that has replayed it (db/replicas.py). Not indexed: its updates stay HOT.
    wrote_lsn: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id", "revoked_at"),)


class VerificationCode(Base):
    """A one-time code sent to a phone or an email (confirmation, password reset)."""

    __tablename__ = "verification_codes"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))  # CONFIRM_PHONE, CONFIRM_EMAIL, RESET_PASSWORD
    target: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_verification_codes_user_purpose", "user_id", "purpose", "created_at"),
        # resend throttling counts the codes sent to one contact
        Index("ix_verification_codes_target", "target", "created_at"),
    )


class SignInFailure(Base):
    """A failed sign-in (or a failed re-entry of the password or TOTP code).

    Counted per account (`user_id`) and per client address (`ip`) over a
    sliding window; a successful sign-in detaches the account's rows
    (`user_id` set to NULL), so they keep counting for the address only.
    """

    __tablename__ = "sign_in_failures"

    id: Mapped[IntPk]
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_sign_in_failures_user_id", "user_id", "created_at"),
        Index("ix_sign_in_failures_ip", "ip", "created_at"),
    )


class RateLimitHit(Base):
    """One counted request of a throttled public workflow (registration, password reset).

    `bucket` names the workflow and what it is counted by ("register:address");
    `key` is an HMAC of the address or login (keyed with SECRET_KEY), so no
    stranger's contact is kept in clear. Counted over a sliding window.
    """

    __tablename__ = "rate_limit_hits"

    id: Mapped[IntPk]
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_rate_limit_hits_bucket_key", "bucket", "key", "created_at"),
        # trimming: rows past every window go
        Index("ix_rate_limit_hits_created_at", "created_at"),
    )
