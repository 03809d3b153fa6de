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
from ediary_gql.schema.types.identity import ConsentRequired
from ediary_gql.schema.types.user import User
from ediary_gql.services.sessions import TokenPair


@strawberry.input(description="Sign in by phone or email and password")
class SignInInput:
    login: str = strawberry.field(description="Phone (any common form) or email")
    password: str = strawberry.field(description="The account's password")
    totp_code: str | None = strawberry.field(
        default=None, description="Code from the authenticator app; needed once the second factor is on"
    )


@strawberry.input(description="The refresh token to exchange for a new pair of tokens")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(description="Token to get a new pair of tokens with")


@strawberry.input(description="Whether to end every session of the account, not only this one")
class SignOutInput:
    all_devices: bool = strawberry.field(default=False, description="Revoke every session of the user")


@strawberry.type(description="Tokens of a new or refreshed session")
class AuthPayload(Payload):
    access_token: str | None = strawberry.field(default=None, description="Bearer token for the Authorization header")
    access_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the access token expires"
    )
    refresh_token: str | None = strawberry.field(default=None, description="Token to get a new pair of tokens with")
    refresh_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the refresh token expires"
    )
    user: User | None = strawberry.field(
        default=None, description="The user as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before trying again"
    )
    consent_required: ConsentRequired | None = strawberry.field(
        default=None, description="With a CONSENT_REQUIRED error: how to give it (giveConsent)"
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
        return cls(
            user_errors=input_errors(error),
            retry_after_seconds=retry_after_seconds(error),
            consent_required=ConsentRequired.of_error(error),
        )


@strawberry.type(description="How many sessions were ended by signing out")
class SignOutPayload(Payload):
    revoked_sessions: int = strawberry.field(default=0, description="How many sessions were ended")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: int) -> Self:
        return cls(revoked_sessions=result)


@strawberry.input(description="The notifications to mark read; all of the inbox when no IDs are given")
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID] | None = node_id(
        "Notification", default=None, description="Notifications to mark; null marks every unread one", item_paths=False
    )


@strawberry.type(description="How many notifications were marked read")
class MarkNotificationsReadPayload(Payload):
    marked: int = strawberry.field(default=0, description="How many notifications were marked read")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: int) -> Self:
        return cls(marked=result)
