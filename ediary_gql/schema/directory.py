"""Root fields of the directory: regions and their settlements (public)."""

from __future__ import annotations

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers import directory
from ediary_gql.schema.connection import Connection, to_connection
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
        region_code: str,
        query: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Settlement]:
        page = await directory.settlements(info.context, region_code=region_code, query=query, first=first, after=after)
        return to_connection(page, Settlement.from_row)
