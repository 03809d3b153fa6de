"""Sign-in with the portal (signInWithProvider), linkIdentity, unlinkIdentity, consent
(giveConsent, withdrawConsent) and the signed-in person's identities and consents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.identities import ConsentMethod, ConsentRecord, UserIdentity
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.resolvers.transaction import act_as
from ediary_gql.services import consents, identities, sessions

if TYPE_CHECKING:
    from ediary_gql.context import Context


def _signed_in(ctx: Context, session: AsyncSession, pair: sessions.TokenPair) -> sessions.TokenPair:
    """The rest of the response is read as the person who has just signed in."""
    user = pair.user
    act_as(
        ctx,
        session,
        Actor(user_id=user.id, session_id=pair.session_id, status=user.status, is_operator=user.is_operator),
    )
    return pair


async def sign_in_with_provider(
    ctx: Context,
    session: AsyncSession,
    actor: Actor | None,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    consent_text_version: str | None = None,
) -> sessions.TokenPair:
    identity = await identities.verify(
        ctx.settings, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri, nonce=None
    )
    pair = await identities.sign_in_with_identity(
        session,
        settings=ctx.settings,
        identity=identity,
        app_nonce=True,
        consent_text_version=consent_text_version,
        user_agent=ctx.user_agent,
        ip=ctx.client_ip,
    )
    return _signed_in(ctx, session, pair)


async def link_identity(
    ctx: Context, session: AsyncSession, actor: Actor, *, code: str, code_verifier: str, redirect_uri: str
) -> UserIdentity:
    if not policy.can_manage_identities(actor):
        raise DomainError(ErrorCode.FORBIDDEN, "Недостаточно прав для этого действия")
    identity = await identities.verify(
        ctx.settings, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri, nonce=None
    )
    return await identities.link_identity(session, actor=actor, identity=identity, app_nonce=True)


async def unlink_identity(ctx: Context, session: AsyncSession, actor: Actor, *, identity_id: int) -> UserIdentity:
    return await identities.unlink_identity(session, actor=actor, identity_id=identity_id)


async def give_consent(
    ctx: Context,
    session: AsyncSession,
    actor: Actor | None,
    *,
    text_version: str,
    consent_token: str | None = None,
) -> tuple[ConsentRecord, sessions.TokenPair | None]:
    """Signed in: the consent is recorded. With the token of a sign-in refused for want of
    consent: recorded, and the person is signed in."""
    if consent_token is None:
        if actor is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "Требуется вход в систему")
        record = await consents.give_own(
            session, settings=ctx.settings, actor=actor, text_version=text_version, address=ctx.client_ip
        )
        return record, None
    user = await consents.user_of_unspent_consent_token(session, settings=ctx.settings, token=consent_token)
    record = await consents.give(
        session,
        settings=ctx.settings,
        user=user,
        actor=None,
        text_version=text_version,
        address=ctx.client_ip,
        method=ConsentMethod.FORM,
    )
    pair = await identities.open_consented_session(
        session, settings=ctx.settings, user=user, user_agent=ctx.user_agent, ip=ctx.client_ip
    )
    return record, _signed_in(ctx, session, pair)


async def withdraw_consent(ctx: Context, session: AsyncSession, actor: Actor) -> list[ConsentRecord]:
    return await consents.withdraw(session, actor=actor)


async def my_identities(ctx: Context, user_id: int) -> Sequence[UserIdentity] | None:
    """The user's own identities; None for anyone else."""
    actor = ctx.actor
    if actor is None or actor.user_id != user_id:
        return None
    async with ctx.read_session_factory() as session:
        return list((await session.scalars(identities.identities_query(user_id))).all())


async def my_consents(ctx: Context, user_id: int) -> Sequence[ConsentRecord] | None:
    actor = ctx.actor
    if actor is None or actor.user_id != user_id:
        return None
    async with ctx.read_session_factory() as session:
        return await consents.records_of(session, user_id)


async def consent_state(ctx: Context, user_id: int) -> consents.ConsentState | None:
    actor = ctx.actor
    if actor is None or actor.user_id != user_id:
        return None
    async with ctx.read_session_factory() as session:
        user = await session.get(User, user_id)
        if user is None:
            return None
        return await consents.state(session, user=user, settings=ctx.settings)


def may_view_identity(ctx: Context, row: UserIdentity) -> bool:
    return ctx.actor is not None and ctx.actor.user_id == row.user_id


def may_view_consent(ctx: Context, row: ConsentRecord) -> bool:
    return ctx.actor is not None and ctx.actor.user_id == row.user_id
