"""Region and Settlement: the public directory of the subjects of the Russian
Federation and their settlements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models.geo import Region as RegionRow
from ediary_gql.db.models.geo import Settlement as SettlementRow
from ediary_gql.resolvers import directory
from ediary_gql.schema.node import EntityNode
from ediary_gql.text import is_digits

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="Region", description="A subject of the Russian Federation (регион)")
class Region(EntityNode):
    model = RegionRow

    id: relay.NodeID[str]
    code: str = strawberry.field(description='The code used in official documents: "77", "50", "91", …')
    name: str = strawberry.field(description="The name people see")
    kind: str = strawberry.field(description="республика, край, область, город федерального значения, …")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.code, code=row.code, name=row.name, kind=row.kind)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return True  # a public directory

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        # a code is digits: anything else (a NUL, which PostgreSQL refuses in text) is no region's
        codes = [code if is_digits(code) else "" for code in map(str, node_ids)]
        rows = await directory.regions_by_code(info.context, codes)
        return [cls.from_row(row) if row is not None else None for row in rows]


@strawberry.type(name="Settlement", description="A settlement (населённый пункт) of a region")
class Settlement(EntityNode):
    model = SettlementRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    kind: str = strawberry.field(description="город, посёлок городского типа, село, …")
    okato: str | None = strawberry.field(description="OKATO code of the settlement")
    oktmo: str | None = strawberry.field(description="OKTMO code of the settlement")
    _region_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id, name=row.name, kind=row.kind, okato=row.okato, oktmo=row.oktmo, _region_code=row.region_code
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return True  # a public directory

    @strawberry.field(description="The region the settlement is in")
    async def region(self, info: strawberry.Info[Context, None]) -> Region:
        [row] = await directory.regions_by_code(info.context, [self._region_code])
        assert row is not None  # noqa: S101 - a foreign key
        return Region.from_row(row)
