"""Integrations: createIntegration, rotateIntegrationSecret, revokeIntegration, and a
school's list of them (its admins only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import IntegrationStatus
from ediary_gql.db.models.integrations import Integration
from ediary_gql.db.models.users import User
from ediary_gql.services import integrations as service

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def create_integration(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, name: str, scopes: Sequence[str]
) -> service.NewSecret:
    return await service.create_integration(session, actor=actor, school_id=school_id, name=name, scopes=scopes)


async def rotate_integration_secret(
    ctx: Context, session: AsyncSession, actor: Actor, *, integration_id: int
) -> service.NewSecret:
    grace = dt.timedelta(hours=ctx.settings.integration_secret_grace_hours)
    return await service.rotate_secret(session, actor=actor, integration_id=integration_id, grace=grace)


async def revoke_integration(ctx: Context, session: AsyncSession, actor: Actor, *, integration_id: int) -> Integration:
    return await service.revoke_integration(session, actor=actor, integration_id=integration_id)


async def school_integrations(
    ctx: Context, school_id: int, status: IntegrationStatus | None
) -> list[Integration] | None:
    """None unless the viewer may manage the school's integrations."""
    query = service.school_integrations_query(ctx.actor, school_id)
    if query is None:
        return None
    if status is not None:
        query = query.where(Integration.status == status)
    async with ctx.read_session_factory() as session:
        return list((await session.scalars(query)).all())


def may_view(ctx: Context, row: Integration) -> bool:
    return service.may_view(ctx.actor, row)


async def user_of(ctx: Context, user_id: int) -> User | None:
    row: User | None = await ctx.loaders.by_id(User).load(user_id)
    return row
