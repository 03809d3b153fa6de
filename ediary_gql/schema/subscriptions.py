"""Subscription fields over the one runner (`resolvers.streams.follow`): each event's
row turned into its type."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers.streams import Feed, follow

R = TypeVar("R")
T = TypeVar("T")


async def each(
    info: strawberry.Info[Context, None], feed: Feed[R], convert: Callable[[R], T]
) -> AsyncGenerator[T, None]:
    """What `feed` follows, each item as `convert` makes it."""
    async for item in follow(info.context, feed):
        yield convert(item)
