"""The transaction a mutation runs in: whole or absent, events after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.errors import DomainError, RecordedRefusal
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.audit import RequestMeta, set_request_meta

if TYPE_CHECKING:
    from ediary_gql.context import Context

_AFTER_COMMIT = "ediary.after_commit"


def after_commit(session: AsyncSession, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` once the transaction of `session` has committed, and not at all if it
    rolls back: for what must not happen inside it (a message to an address outside the
    system, sent through a session of its own)."""
    session.info[_AFTER_COMMIT].append(action)


def act_as(context: Context, session: AsyncSession, actor: Actor) -> None:
    """The rest of the request is read as `actor` (who has just signed in or registered),
    from the moment the transaction that made them has committed; not at all if it rolls back."""

    async def switch() -> None:
        context.set_actor(actor)

    after_commit(session, switch)


@asynccontextmanager
async def transaction(context: Context) -> AsyncIterator[AsyncSession]:
    actions: list[Callable[[], Awaitable[None]]] = []
    async with unit_of_work(context.session_factory, context.services.bus) as session:
        set_request_meta(session, RequestMeta(ip=context.client_ip, request_id=context.request_id))
        session.info[_AFTER_COMMIT] = actions
        yield session
    for action in actions:
        await action()


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
