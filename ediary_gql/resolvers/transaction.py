"""The transaction a mutation runs in: whole or absent, events after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.errors import DomainError, RecordedRefusal
from ediary_gql.events.publish import after_commit, unit_of_work
from ediary_gql.services.audit import RequestMeta, set_request_meta

if TYPE_CHECKING:
    from ediary_gql.context import Context

__all__ = ["act_as", "after_commit", "recording_transaction", "transaction"]


def act_as(context: Context, session: AsyncSession, actor: Actor) -> None:
    """The rest of the request is read as `actor` (who has just signed in or registered),
    from the moment the transaction that made them has committed; not at all if it rolls back."""

    async def switch() -> None:
        context.set_actor(actor)

    after_commit(session, switch)


@asynccontextmanager
async def transaction(context: Context) -> AsyncIterator[AsyncSession]:
    # after_commit work (events/publish.py) runs as `unit_of_work` ends, once committed
    async with unit_of_work(context.session_factory, context.services.bus) as session:
        set_request_meta(session, RequestMeta(ip=context.client_ip, request_id=context.request_id))
        yield session


@asynccontextmanager
async def recording_transaction(context: Context) -> AsyncIterator[AsyncSession]:
    """Like `transaction`, but a RecordedRefusal commits what it recorded (a failed
    attempt, a spent code) before its refusal is raised to the caller."""
    refusal: DomainError | None = None
    async with transaction(context) as session:
        try:
            yield session
        except RecordedRefusal as exc:
            refusal = exc.refusal
    if refusal is not None:
        raise refusal
