"""Subscription fields over the one runner (`resolvers.streams.follow`): each event's
row turned into its type; a subscription refused before it listens answered as the
protocol's `error` message (`refusals_as_errors`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

import strawberry
from graphql.execution.async_iterables import aclosing
from strawberry.types.execution import ExecutionResult, PreExecutionError

from ediary_gql.context import Context
from ediary_gql.resolvers.streams import Feed, follow, has_listened
from ediary_gql.schema.event_results import share_as

R = TypeVar("R")
T = TypeVar("T")


async def each(
    info: strawberry.Info[Context, None],
    feed: Feed[R],
    convert: Callable[[R, str], T],
    *,
    after: str | None = None,
) -> AsyncGenerator[T, None]:
    """What `feed` follows (resumed after the cursor `after`, if given), each item as
    `convert` makes it of the item and its cursor. Return it from the field (`return
    each(...)`): closing the field's stream then closes the runner at once, its place in
    the log's tail with it, not when the garbage collector comes."""
    async with aclosing(follow(info.context, feed, after=after)) as items:
        async for delivered in items:
            payload = convert(delivered.item, delivered.cursor)
            if delivered.shared_as is not None:
                share_as(payload, delivered.shared_as)
            yield payload


def entity(convert: Callable[[R], T]) -> Callable[[R, str], T]:
    """`convert` for a (deprecated) subscription that returns the entity itself, with no
    cursor to carry."""
    return lambda item, _cursor: convert(item)


AFTER = strawberry.argument(
    description="Resume after this cursor (an event's `cursor`): the events since are sent first, then live ones"
)
CURSOR_DESCRIPTION = "Where this event is in the stream: pass it as `after` to resume after it"


async def refusals_as_errors(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The results of a stream, with a subscription refused before it listened (`follow`
    raised at subscribe time: no actor, no right, or its arguments refused before it) given
    as a PreExecutionError: both WebSocket protocols then send it as an `error` message
    (graphql-transport-ws: "Operation execution error(s) in response to the Subscribe
    message"), not as a `next` carrying errors. Errors of a stream that ran (a revoked
    session, a right lost, the bus gone) still end it as a result with errors, then
    `complete`. A refusal is told apart by being raised by the subscription's generator
    itself (no field path: field errors of queries and events have one) before it listened."""
    async with aclosing(source):
        first = True
        async for result in source:
            if first and _refused_before_listening(result):
                yield PreExecutionError(data=None, errors=result.errors, extensions=result.extensions)
                return
            first = False
            yield result


def _refused_before_listening(result: Any) -> bool:
    return (
        type(result) is ExecutionResult
        and result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
        and not has_listened()
    )
