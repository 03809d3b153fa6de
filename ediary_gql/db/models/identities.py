"""Sign-in with an outside identity provider (the portal, by OpenID Connect) and
consent to the processing of personal data."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, IntPk, UtcDateTime, str_enum, utcnow


class ConsentMethod(enum.StrEnum):
    FORM = "FORM"  # ticked in our own form (registration, giveConsent)
    PROVIDER = "PROVIDER"  # given while signing in with the portal
    MIGRATED = "MIGRATED"  # carried over from the single timestamp kept before consent records


class UserIdentity(Base):
    """An account at an identity provider linked to one of our users: `subject` is
    the provider's `sub`, unique per provider."""

    __tablename__ = "user_identities"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    # The verified claims last asserted by the provider (names, contacts, SNILS).
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The SNILS the provider asserted (digits only), to link a later first sign-in by it.
    snils: Mapped[str | None] = mapped_column(String(11), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("provider", "subject"),)


class ConsentRecord(Base):
    """One consent to processing: which text, when, from which address and how.
    Withdrawn consents stay, with the time they were withdrawn."""

    __tablename__ = "consent_records"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    text_version: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    address: Mapped[str | None] = mapped_column(String(45))
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_consent_records_user_id", "user_id", "given_at"),)


class OidcLogin(Base):
    """One authorization request and its one use: the browser flow's `state`, `nonce`
    and PKCE verifier, kept until the callback; an app's sign-in keeps the ID
    token's nonce. A second use of either is refused (no FK: it may precede the user)."""

    __tablename__ = "oidc_logins"

    id: Mapped[IntPk]
    state: Mapped[str | None] = mapped_column(String(128), unique=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    # trimming: expired rows go
    __table_args__ = (Index("ix_oidc_logins_expires_at", "expires_at"),)
