"""Ending every session of an account at once (a password reset, a withdrawn consent, a
revoked integration): apart from services/sessions.py, which the consent rules import."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.users import AuthSession
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import SessionRevoked


async def revoke_all(session: AsyncSession, *, user_id: int) -> int:
    """End every session of a user; open subscriptions close at once. The number ended."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    queue_event(session, SessionRevoked(user_id=user_id, session_id=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
