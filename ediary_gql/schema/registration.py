"""Root fields of registration and sign-in security (accounts area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import registration
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.registration import (
    ConfirmContactInput,
    ConfirmContactPayload,
    ConfirmTwoFactorInput,
    DisableTwoFactorInput,
    EnableTwoFactorInput,
    EnableTwoFactorPayload,
    RegisterInput,
    RegisterPayload,
    RequestPasswordResetInput,
    RequestPasswordResetPayload,
    ResendConfirmationCodeInput,
    ResendConfirmationCodePayload,
    ResetPasswordInput,
    ResetPasswordPayload,
    TwoFactorPayload,
)


@strawberry.type
class RegistrationMutation:
    register: RegisterPayload = mutation(
        registration.register,
        RegisterInput,
        RegisterPayload,
        description="Register a new person: a TEMPORARY account, signed in; codes go to its phone and email",
        actor="optional",
        records_refusals=True,  # a refusal over the limit is audited
    )
    confirm_contact: ConfirmContactPayload = mutation(
        registration.confirm_contact,
        ConfirmContactInput,
        ConfirmContactPayload,
        description="Confirm the phone (SMS) or email with the code sent there",
        records_refusals=True,  # a wrong code counts
    )
    resend_confirmation_code: ResendConfirmationCodePayload = mutation(
        registration.resend_confirmation_code,
        ResendConfirmationCodeInput,
        ResendConfirmationCodePayload,
        description="Send a new confirmation code (at most one a minute and five an hour per contact)",
    )
    enable_two_factor: EnableTwoFactorPayload = mutation(
        registration.enable_two_factor,
        EnableTwoFactorInput,
        EnableTwoFactorPayload,
        description="Start connecting an authenticator app (confirmed accounts); confirmTwoFactor turns it on",
        records_refusals=True,  # a wrong password counts like a failed sign-in
    )
    confirm_two_factor: TwoFactorPayload = mutation(
        registration.confirm_two_factor,
        ConfirmTwoFactorInput,
        TwoFactorPayload,
        description="Turn the second factor on with the first code from the app",
    )
    disable_two_factor: TwoFactorPayload = mutation(
        registration.disable_two_factor,
        DisableTwoFactorInput,
        TwoFactorPayload,
        description="Turn the second factor off with a current code or the password",
        records_refusals=True,  # a wrong code or password counts like a failed sign-in
    )
    request_password_reset: RequestPasswordResetPayload = mutation(
        registration.request_password_reset,
        RequestPasswordResetInput,
        RequestPasswordResetPayload,
        description="Send a password reset code to the phone or email given (the same answer for any login)",
        actor="optional",
        records_refusals=True,  # a refusal over the limit is audited
    )
    reset_password: ResetPasswordPayload = mutation(
        registration.reset_password,
        ResetPasswordInput,
        ResetPasswordPayload,
        description="Set a new password with the reset code; every session of the account ends",
        actor="optional",
        records_refusals=True,  # a wrong code counts
    )
