"""The event stream behind a subscription: parsed events, bus failures as coded errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.bus import BusDisconnected, SubscriberOverflow
from ediary_gql.events.types import parse
from ediary_gql.services import sessions

if TYPE_CHECKING:
    from ediary_gql.auth.actor import Actor
    from ediary_gql.context import Context


async def events(context: Context, channel: str) -> AsyncIterator[dict[str, Any]]:
    """Decoded events of `channel`. When the bus drops or this client falls behind,
    the stream ends with STREAM_INTERRUPTED: the client re-subscribes and re-reads."""
    try:
        async with context.services.bus.subscribe(channel) as subscription:
            async for message in subscription:
                event = parse(message)
                if event:
                    yield event
    except BusDisconnected:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Поток событий прерван: подпишитесь снова и обновите данные"
        ) from None
    except SubscriberOverflow:
        raise DomainError(
            ErrorCode.STREAM_INTERRUPTED, "Клиент не успевает получать события: подпишитесь снова"
        ) from None


async def ensure_session_active(context: Context, actor: Actor) -> None:
    """Checked per event: a signed-out session hears nothing more."""
    if actor.session_id is None:
        return
    async with context.session_factory() as session:
        if not await sessions.is_session_active(session, actor.session_id):
            raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
