"""Root fields of registration and sign-in security (accounts area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import registration
from ediary_gql.schema.types.registration import (
    ConfirmContactPayload,
    EnableTwoFactorPayload,
    RegisterPayload,
    RequestPasswordResetPayload,
    ResendConfirmationCodePayload,
    ResetPasswordPayload,
    TwoFactorPayload,
)


@strawberry.type
class RegistrationMutation:
    register: RegisterPayload = strawberry.mutation(
        resolver=registration.register,
        description="Register a new person: a TEMPORARY account, signed in; codes go to its phone and email",
    )
    confirm_contact: ConfirmContactPayload = strawberry.mutation(
        resolver=registration.confirm_contact,
        description="Confirm the phone (SMS) or email with the code sent there",
    )
    resend_confirmation_code: ResendConfirmationCodePayload = strawberry.mutation(
        resolver=registration.resend_confirmation_code,
        description="Send a new confirmation code (at most one a minute and five an hour per contact)",
    )
    enable_two_factor: EnableTwoFactorPayload = strawberry.mutation(
        resolver=registration.enable_two_factor,
        description="Start connecting an authenticator app (confirmed accounts); confirmTwoFactor turns it on",
    )
    confirm_two_factor: TwoFactorPayload = strawberry.mutation(
        resolver=registration.confirm_two_factor,
        description="Turn the second factor on with the first code from the app",
    )
    disable_two_factor: TwoFactorPayload = strawberry.mutation(
        resolver=registration.disable_two_factor,
        description="Turn the second factor off with a current code or the password",
    )
    request_password_reset: RequestPasswordResetPayload = strawberry.mutation(
        resolver=registration.request_password_reset,
        description="Send a password reset code to the phone or email given (the same answer for any login)",
    )
    reset_password: ResetPasswordPayload = strawberry.mutation(
        resolver=registration.reset_password,
        description="Set a new password with the reset code; every session of the account ends",
    )
