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
    email: str = strawberry.field(description="Email address")
    password: str = strawberry.field(description="At least 8 characters, not a common or guessable password")
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(default=None, description="Patronymic, if any")
    birth_date: dt.date = strawberry.field(description="The person must be 14 or older")
    consent_to_processing: bool = strawberry.field(description="Consent to the processing of personal data")


@strawberry.type(description="The new (TEMPORARY) account, signed in; codes went to its phone and email")
class RegisterPayload(RateLimitedPayload):
    user: User | None = strawberry.field(
        default=None, description="The user as it now is; null when the input was refused"
    )
    access_token: str | None = strawberry.field(default=None, description="Bearer token for the Authorization header")
    access_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the access token expires"
    )
    refresh_token: str | None = strawberry.field(default=None, description="Token to get a new pair of tokens with")
    refresh_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the refresh token expires"
    )
    codes_sent_to: list[ContactChannel] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Contacts a confirmation code was sent to"
    )
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before trying again"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

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
    channel: ContactChannel = strawberry.field(  # type: ignore[valid-type]
        description="Which contact the code confirms"
    )
    code: str = strawberry.field(description="The 6 digits received")


@strawberry.type(description="The account after its phone or email was confirmed, or why the code was refused")
class ConfirmContactPayload(Payload):
    user: User | None = strawberry.field(
        default=None, description="The account; CONFIRMED once both phone and email are confirmed"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="The channel (phone or email) whose confirmation code to send again")
class ResendConfirmationCodeInput:
    channel: ContactChannel = strawberry.field(  # type: ignore[valid-type]
        description="Which contact to send the code to"
    )


@strawberry.type(description="Whether a new confirmation code was sent, or why not")
class ResendConfirmationCodePayload(RateLimitedPayload):
    sent: bool = strawberry.field(default=False, description="Whether a new code was sent")
    code_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the code just sent expires; null when none was sent"
    )
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before asking again"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: verification.SentCode) -> Self:
        return cls(sent=True, code_expires_at=result.expires_at)


@strawberry.input(description="Start connecting an authenticator app; the current password is asked again")
class EnableTwoFactorInput:
    password: str = strawberry.field(description="The account's password")


@strawberry.type(description="The secret to put into the authenticator app (as the URI's QR code or by hand)")
class EnableTwoFactorPayload(RateLimitedPayload):
    secret: str | None = strawberry.field(default=None, description="Base32 secret, for typing in by hand")
    otpauth_uri: str | None = strawberry.field(default=None, description="otpauth:// URI, to show as a QR code")
    retry_after_seconds: int | None = strawberry.field(default=None, description="Seconds to wait before trying again")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: TwoFactorSetup) -> Self:
        return cls(secret=result.secret, otpauth_uri=result.otpauth_uri)


@strawberry.input(description="The first code from the app: turns the second factor on")
class ConfirmTwoFactorInput:
    code: str = strawberry.field(description="The current code from the authenticator app")


@strawberry.input(description="A current code from the app, or the password")
class DisableTwoFactorInput:
    code: str | None = strawberry.field(
        default=None, description="The current code from the authenticator app (or give the password)"
    )
    password: str | None = strawberry.field(default=None, description="The account's password")


@strawberry.type(description="Whether two-factor sign-in is on after the change, or why it was refused")
class TwoFactorPayload(RateLimitedPayload):
    two_factor_enabled: bool | None = strawberry.field(
        default=None, description="Whether two-factor sign-in is on now; null when the input was refused"
    )
    retry_after_seconds: int | None = strawberry.field(default=None, description="Seconds to wait before trying again")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: UserRow) -> Self:
        return cls(two_factor_enabled=result.totp_enabled)


@strawberry.input(description="The phone or email of the account whose password was forgotten")
class RequestPasswordResetInput:
    login: str = strawberry.field(description="The phone or email of the account; the code goes there")


@strawberry.type(description="The same answer whether or not such an account exists")
class RequestPasswordResetPayload(RateLimitedPayload):
    accepted: bool = strawberry.field(
        default=False, description="Always true once the request is taken: it does not tell whether the account exists"
    )
    message: str | None = strawberry.field(default=None, description="A note for people on what happens next")
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="With a RATE_LIMITED error: seconds to wait before asking again"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: None) -> Self:
        return cls(accepted=True, message=RESET_ACCEPTED)


@strawberry.input(description="The reset code received and the new password")
class ResetPasswordInput:
    login: str = strawberry.field(description="The phone or email of the account")
    code: str = strawberry.field(description="The code sent to that contact")
    new_password: str = strawberry.field(description="The new password")


@strawberry.type(description="The password is changed and every session of the account has ended: sign in again")
class ResetPasswordPayload(Payload):
    password_changed: bool = strawberry.field(default=False, description="Whether the password was changed")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: UserRow) -> Self:
        return cls(password_changed=True)
