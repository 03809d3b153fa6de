"""Root fields of the directory: regions and their settlements (public)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import directory
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.geo import Region, Settlement


@strawberry.type
class DirectoryQuery:
    regions: list[Region] = strawberry.field(
        resolver=directory.regions, description="Every subject of the Russian Federation, by code"
    )
    settlements: Connection[Settlement] = strawberry.field(
        resolver=directory.settlements,
        description=(
            "Settlements of a region; `query` finds names with a word starting with it, ignoring case "
            "and ё/е («королё», «короле» → Королёв); names starting with it come first, then by name"
        ),
    )
