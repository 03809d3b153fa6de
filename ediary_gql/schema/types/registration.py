"""Inputs and payloads of registration, contact confirmation, the second factor
and the password reset."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from ediary_gql.db.models.users import User as UserRow
from ediary_gql.errors import DomainError, retry_after_seconds
from ediary_gql.schema.errors import UserError, user_errors
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.types.user import User
from ediary_gql.services import verification
from ediary_gql.services.registration import Registered
from ediary_gql.services.two_factor import TwoFactorSetup
from ediary_gql.services.verification import ContactChannel as ContactChannelEnum

ContactChannel = strawberry.enum(
    ContactChannelEnum, name="ContactChannel", description="A contact a code is sent to: SMS (phone) or EMAIL"
)

RESET_ACCEPTED = (
    "Если учётная запись с таким телефоном или адресом есть, на него отправлен код для смены пароля. "
    f"Код действует {int(verification.CODE_TTL.total_seconds() // 60)} минут; новый можно запросить "
    f"не раньше чем через {int(verification.RESEND_INTERVAL.total_seconds())} секунд."
)


class RateLimitedPayload(Payload):
    """A payload whose refusals say, for a RATE_LIMITED one, how long to wait (`retry_after_seconds`)."""

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        return cls(user_errors=user_errors(error), retry_after_seconds=retry_after_seconds(error))  # type: ignore[call-arg]  # a strawberry type


@strawberry.input(description="A new person's account")
class RegisterInput:
    phone: str = strawberry.field(description="Mobile phone, any common Russian form: 8 (916) 123-45-67, +7 916 …")
    email: str
    password: str = strawberry.field(description="At least 8 characters, not a common or guessable password")
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: dt.date = strawberry.field(description="The person must be 14 or older")
    consent_to_processing: bool = strawberry.field(description="Consent to the processing of personal data")


@strawberry.type(description="The new (TEMPORARY) account, signed in; codes went to its phone and email")
class RegisterPayload(RateLimitedPayload):
    user: User | None = None
    access_token: str | None = None
    access_token_expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: dt.datetime | None = None
    codes_sent_to: list[ContactChannel] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Contacts a confirmation code was sent to"
    )
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before trying again"
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: Registered) -> Self:
        tokens = result.tokens
        return cls(
            user=User.from_row(result.user),
            access_token=tokens.access_token,
            access_token_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_at=tokens.refresh_expires_at,
            codes_sent_to=list(result.codes_sent),
        )


@strawberry.input(description="A confirmation code received by SMS or email")
class ConfirmContactInput:
    channel: ContactChannel  # type: ignore[valid-type]
    code: str = strawberry.field(description="The 6 digits received")


@strawberry.type
class ConfirmContactPayload(Payload):
    user: User | None = strawberry.field(
        default=None, description="The account; CONFIRMED once both phone and email are confirmed"
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResendConfirmationCodeInput:
    channel: ContactChannel  # type: ignore[valid-type]


@strawberry.type
class ResendConfirmationCodePayload(RateLimitedPayload):
    sent: bool = False
    code_expires_at: dt.datetime | None = None
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before asking again"
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: verification.SentCode) -> Self:
        return cls(sent=True, code_expires_at=result.expires_at)


@strawberry.input(description="Start connecting an authenticator app; the current password is asked again")
class EnableTwoFactorInput:
    password: str


@strawberry.type(description="The secret to put into the authenticator app (as the URI's QR code or by hand)")
class EnableTwoFactorPayload(RateLimitedPayload):
    secret: str | None = strawberry.field(default=None, description="Base32 secret, for typing in by hand")
    otpauth_uri: str | None = strawberry.field(default=None, description="otpauth:// URI, to show as a QR code")
    retry_after_seconds: int | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: TwoFactorSetup) -> Self:
        return cls(secret=result.secret, otpauth_uri=result.otpauth_uri)


@strawberry.input(description="The first code from the app: turns the second factor on")
class ConfirmTwoFactorInput:
    code: str


@strawberry.input(description="A current code from the app, or the password")
class DisableTwoFactorInput:
    code: str | None = None
    password: str | None = None


@strawberry.type
class TwoFactorPayload(RateLimitedPayload):
    two_factor_enabled: bool | None = None
    retry_after_seconds: int | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: UserRow) -> Self:
        return cls(two_factor_enabled=result.totp_enabled)


@strawberry.input
class RequestPasswordResetInput:
    login: str = strawberry.field(description="The phone or email of the account; the code goes there")


@strawberry.type(description="The same answer whether or not such an account exists")
class RequestPasswordResetPayload(RateLimitedPayload):
    accepted: bool = False
    message: str | None = None
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before asking again"
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: None) -> Self:
        return cls(accepted=True, message=RESET_ACCEPTED)


@strawberry.input
class ResetPasswordInput:
    login: str
    code: str
    new_password: str


@strawberry.type(description="The password is changed and every session of the account has ended: sign in again")
class ResetPasswordPayload(Payload):
    password_changed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: UserRow) -> Self:
        return cls(password_changed=True)
