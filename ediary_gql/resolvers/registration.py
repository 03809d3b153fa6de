"""Resolvers of registration, contact confirmation, the second factor and the password reset."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.errors import DomainError, retry_after_seconds
from ediary_gql.resolvers.transaction import recording_transaction, transaction
from ediary_gql.schema.errors import user_errors
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
from ediary_gql.schema.types.user import User
from ediary_gql.services import password_reset, registration, two_factor, verification
from ediary_gql.services.verification import ContactChannel

Info = strawberry.Info[Context, None]

RESET_ACCEPTED = (
    "Если учётная запись с таким телефоном или адресом есть, на него отправлен код для смены пароля. "
    f"Код действует {int(verification.CODE_TTL.total_seconds() // 60)} минут; новый можно запросить "
    f"не раньше чем через {int(verification.RESEND_INTERVAL.total_seconds())} секунд."
)


def _caller(ctx: Context) -> Actor | None:
    """Who calls a public workflow, for the audit; a stale token there just means anonymous."""
    try:
        return ctx.actor
    except DomainError:
        return None


async def register(info: Info, input: RegisterInput) -> RegisterPayload:
    ctx = info.context
    data = registration.Registration(
        phone=input.phone,
        email=input.email,
        password=input.password,
        last_name=input.last_name,
        first_name=input.first_name,
        middle_name=input.middle_name,
        birth_date=input.birth_date,
        consent_to_processing=input.consent_to_processing,
    )
    try:
        async with recording_transaction(ctx) as session:  # a refusal over the limit is audited
            done = await registration.register(
                session,
                settings=ctx.settings,
                actor=_caller(ctx),
                data=data,
                user_agent=ctx.user_agent,
                ip=ctx.client_ip,
            )
    except DomainError as exc:
        return RegisterPayload(user_errors=user_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    user, pair = done.user, done.tokens
    # the rest of this response is read as the person who has just registered
    ctx.set_actor(Actor(user_id=user.id, session_id=pair.session_id, status=user.status))
    return RegisterPayload(
        user=User.from_row(user),
        access_token=pair.access_token,
        access_token_expires_at=pair.access_expires_at,
        refresh_token=pair.refresh_token,
        refresh_token_expires_at=pair.refresh_expires_at,
        codes_sent_to=list(done.codes_sent),
    )


async def confirm_contact(info: Info, input: ConfirmContactInput) -> ConfirmContactPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        async with recording_transaction(ctx) as session:
            row = await verification.confirm_contact(
                session, settings=ctx.settings, actor=actor, channel=ContactChannel(input.channel), code=input.code
            )
    except DomainError as exc:
        return ConfirmContactPayload(user_errors=user_errors(exc))
    return ConfirmContactPayload(user=User.from_row(row))


async def resend_confirmation_code(info: Info, input: ResendConfirmationCodeInput) -> ResendConfirmationCodePayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        async with transaction(ctx) as session:
            sent = await verification.resend_confirmation_code(
                session, settings=ctx.settings, actor=actor, channel=ContactChannel(input.channel)
            )
    except DomainError as exc:
        return ResendConfirmationCodePayload(user_errors=user_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    return ResendConfirmationCodePayload(sent=True, code_expires_at=sent.expires_at)


async def enable_two_factor(info: Info, input: EnableTwoFactorInput) -> EnableTwoFactorPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        async with recording_transaction(ctx) as session:
            setup = await two_factor.begin(session, actor=actor, password=input.password, ip=ctx.client_ip)
    except DomainError as exc:
        return EnableTwoFactorPayload(user_errors=user_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    return EnableTwoFactorPayload(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


async def confirm_two_factor(info: Info, input: ConfirmTwoFactorInput) -> TwoFactorPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        async with transaction(ctx) as session:
            row = await two_factor.confirm(session, actor=actor, code=input.code)
    except DomainError as exc:
        return TwoFactorPayload(user_errors=user_errors(exc))
    return TwoFactorPayload(two_factor_enabled=row.totp_enabled)


async def disable_two_factor(info: Info, input: DisableTwoFactorInput) -> TwoFactorPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        async with recording_transaction(ctx) as session:
            row = await two_factor.disable(
                session, actor=actor, code=input.code, password=input.password, ip=ctx.client_ip
            )
    except DomainError as exc:
        return TwoFactorPayload(user_errors=user_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    return TwoFactorPayload(two_factor_enabled=row.totp_enabled)


async def request_password_reset(info: Info, input: RequestPasswordResetInput) -> RequestPasswordResetPayload:
    ctx = info.context
    try:
        async with recording_transaction(ctx) as session:  # a refusal over the limit is audited
            await password_reset.request_password_reset(
                session, settings=ctx.settings, actor=_caller(ctx), login=input.login, ip=ctx.client_ip
            )
    except DomainError as exc:
        return RequestPasswordResetPayload(user_errors=user_errors(exc), retry_after_seconds=retry_after_seconds(exc))
    return RequestPasswordResetPayload(accepted=True, message=RESET_ACCEPTED)


async def reset_password(info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
    ctx = info.context
    try:
        async with recording_transaction(ctx) as session:
            await password_reset.reset_password(
                session,
                settings=ctx.settings,
                actor=_caller(ctx),
                login=input.login,
                code=input.code,
                new_password=input.new_password,
            )
    except DomainError as exc:
        return ResetPasswordPayload(user_errors=user_errors(exc))
    return ResetPasswordPayload(password_changed=True)
