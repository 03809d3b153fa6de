"""Turns an Authorization value into the context's actor (or its error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ediary_gql.auth.tokens import bearer_token
from ediary_gql.errors import DomainError
from ediary_gql.services import sessions

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def authenticate(context: Context, authorization: str | None) -> None:
    try:
        token = bearer_token(authorization)
        if token is None:
            context.set_actor(None)
            return
        actor = await sessions.authenticate(context.services.reads, settings=context.settings, token=token)
        context.set_actor(actor)
    except DomainError as exc:
        context.set_actor(None, exc)
