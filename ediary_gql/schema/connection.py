"""Cursor connections with `totalCount`, built from keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry import relay

from ediary_gql.db.pagination import Page
from ediary_gql.db.pagination import PageArgs as PageArgs  # what connection fields hand to resolvers

NodeT = TypeVar("NodeT")

# The Relay paging arguments of every connection field, with one wording for all of them.
First = Annotated[
    int | None,
    strawberry.argument(description="Page forwards: at most this many items from the start (or after `after`)"),
]
After = Annotated[str | None, strawberry.argument(description="Cursor of the item the page starts after")]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="Page backwards: at most this many items from the end (or before `before`); not with `first`"
    ),
]
Before = Annotated[str | None, strawberry.argument(description="Cursor of the item the page ends before")]


@strawberry.type(name="Edge", description="An item of a connection with its cursor")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque cursor of this item, for `after` and `before`")
    node: NodeT = strawberry.field(description="The item")


@strawberry.type(name="Connection", description="A page of a list, paged by cursor")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page with their cursors, in list order")
    page_info: relay.PageInfo = strawberry.field(
        description="Cursors of the page's ends and whether more lies beyond them"
    )
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds (ignores paging)")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The items of this page, without cursors")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def to_connection(page: Page[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
    edges = [Edge(cursor=c, node=convert(r)) for r, c in zip(page.rows, page.cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        _count=page.count,
    )
