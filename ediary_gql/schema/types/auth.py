"""Inputs and payloads of signing in and out, and of the notification inbox."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from ediary_gql.errors import DomainError, retry_after_seconds
from ediary_gql.schema.errors import UserError, input_errors
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.types.user import User
from ediary_gql.services.sessions import TokenPair


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
class AuthPayload(Payload):
    access_token: str | None = None
    access_token_expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: dt.datetime | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before trying again"
    )

    @classmethod
    def of(cls, result: TokenPair) -> Self:
        return cls(
            access_token=result.access_token,
            access_token_expires_at=result.access_expires_at,
            refresh_token=result.refresh_token,
            refresh_token_expires_at=result.refresh_expires_at,
            user=User.from_row(result.user),
        )

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        # the input is a credential: a bad or revoked token is the input's fault, reported as data
        return cls(user_errors=input_errors(error), retry_after_seconds=retry_after_seconds(error))


@strawberry.type
class SignOutPayload(Payload):
    revoked_sessions: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: int) -> Self:
        return cls(revoked_sessions=result)


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID] | None = node_id(
        "Notification", default=None, description="Notifications to mark; null marks every unread one", item_paths=False
    )


@strawberry.type
class MarkNotificationsReadPayload(Payload):
    marked: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: int) -> Self:
        return cls(marked=result)
