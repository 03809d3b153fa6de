"""Inputs and payloads of signing in and out."""

from __future__ import annotations

import datetime as dt

import strawberry

from ediary_gql.schema.errors import UserError
from ediary_gql.schema.types.user import User


@strawberry.input(description="Sign in by phone or email and password")
class SignInInput:
    login: str = strawberry.field(description="Phone (any common form) or email")
    password: str
    totp_code: str | None = strawberry.field(
        default=None, description="Code from the authenticator app; needed once the second factor is on"
    )


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class SignOutInput:
    all_devices: bool = strawberry.field(default=False, description="Revoke every session of the user")


@strawberry.type(description="Tokens of a new or refreshed session")
class AuthPayload:
    access_token: str | None = None
    access_token_expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: dt.datetime | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before trying again"
    )


@strawberry.type
class SignOutPayload:
    revoked_sessions: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.relay.GlobalID] | None = strawberry.field(
        default=None, description="Notifications to mark; null marks every unread one"
    )


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)
