"""Registration, contact confirmation, the second factor and the password reset. Inputs
come decoded; results are the services' rows and small results, turned into payloads by
schema/types/registration.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.users import User
from ediary_gql.resolvers.transaction import act_as
from ediary_gql.services import password_reset, registration, two_factor, verification
from ediary_gql.services.two_factor import TwoFactorSetup
from ediary_gql.services.verification import ContactChannel


async def register(
    ctx: Context,
    session: AsyncSession,
    actor: Actor | None,
    *,
    phone: str,
    email: str,
    password: str,
    last_name: str,
    first_name: str,
    middle_name: str | None,
    birth_date: dt.date,
    consent_to_processing: bool,
) -> registration.Registered:
    done = await registration.register(
        session,
        settings=ctx.settings,
        actor=actor,
        data=registration.Registration(
            phone=phone,
            email=email,
            password=password,
            last_name=last_name,
            first_name=first_name,
            middle_name=middle_name,
            birth_date=birth_date,
            consent_to_processing=consent_to_processing,
        ),
        user_agent=ctx.user_agent,
        ip=ctx.client_ip,
    )
    # the rest of this response is read as the person who has just registered
    user, pair = done.user, done.tokens
    act_as(ctx, session, Actor(user_id=user.id, session_id=pair.session_id, status=user.status))
    return done


async def confirm_contact(
    ctx: Context, session: AsyncSession, actor: Actor, *, channel: ContactChannel, code: str
) -> User:
    return await verification.confirm_contact(
        session, settings=ctx.settings, actor=actor, channel=ContactChannel(channel), code=code
    )


async def resend_confirmation_code(
    ctx: Context, session: AsyncSession, actor: Actor, *, channel: ContactChannel
) -> verification.SentCode:
    return await verification.resend_confirmation_code(
        session, settings=ctx.settings, actor=actor, channel=ContactChannel(channel)
    )


async def enable_two_factor(ctx: Context, session: AsyncSession, actor: Actor, *, password: str) -> TwoFactorSetup:
    return await two_factor.begin(session, actor=actor, password=password, ip=ctx.client_ip)


async def confirm_two_factor(ctx: Context, session: AsyncSession, actor: Actor, *, code: str) -> User:
    return await two_factor.confirm(session, actor=actor, code=code)


async def disable_two_factor(
    ctx: Context, session: AsyncSession, actor: Actor, *, code: str | None, password: str | None
) -> User:
    return await two_factor.disable(session, actor=actor, code=code, password=password, ip=ctx.client_ip)


async def request_password_reset(ctx: Context, session: AsyncSession, actor: Actor | None, *, login: str) -> None:
    await password_reset.request_password_reset(
        session, settings=ctx.settings, actor=actor, login=login, ip=ctx.client_ip
    )


async def reset_password(
    ctx: Context, session: AsyncSession, actor: Actor | None, *, login: str, code: str, new_password: str
) -> User:
    return await password_reset.reset_password(
        session, settings=ctx.settings, actor=actor, login=login, code=code, new_password=new_password
    )
