"""Root fields of the directory: regions and their settlements (public)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers import directory
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.types.geo import Region, Settlement

Info = strawberry.Info[Context, None]


@strawberry.type
class DirectoryQuery:
    @strawberry.field(description="Every subject of the Russian Federation, by code")
    async def regions(self, info: Info) -> list[Region]:
        return [Region.from_row(row) for row in await directory.regions(info.context)]

    @strawberry.field(
        description=(
            "Settlements of a region; `query` finds names with a word starting with it, ignoring case "
            "and ё/е («королё», «короле» → Королёв); names starting with it come first, then by name"
        )
    )
    async def settlements(
        self,
        info: Info,
        region_code: Annotated[
            str, strawberry.argument(description="Code of the subject of the Russian Federation (77 for Moscow)")
        ],
        query: Annotated[
            str | None,
            strawberry.argument(description="Only settlements whose name contains this (case and ё ignored)"),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Settlement]:
        page = await directory.settlements(
            info.context,
            region_code=region_code,
            query=query,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, Settlement.from_row)
