"""Resolvers of the directory: regions and settlements (public)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import strawberry
from sqlalchemy import select

from ediary_gql.context import Context
from ediary_gql.db.models.geo import Region as RegionRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.services import directory as service

if TYPE_CHECKING:
    from ediary_gql.schema.connection import Connection
    from ediary_gql.schema.types.geo import Region, Settlement

Info = strawberry.Info[Context, None]


async def regions_by_code(context: Context, codes: Sequence[str]) -> list[RegionRow | None]:
    """Regions by code through a per-request loader (a region's key is its code)."""

    async def batch(keys: list[str]) -> list[RegionRow | None]:
        async with context.session_factory() as session:
            rows = await session.scalars(select(RegionRow).where(RegionRow.code.in_(keys)))
            found = {row.code: row for row in rows}
        return [found.get(k) for k in keys]

    loader = context.loaders.get("directory.region_by_code", batch)
    return list(await loader.load_many(list(codes)))


async def regions(info: Info) -> list[Region]:
    from ediary_gql.schema.types.geo import Region

    async with info.context.session_factory() as session:
        rows = (await session.scalars(service.regions_query())).all()
    return [Region.from_row(row) for row in rows]


async def settlements(
    info: Info,
    region_code: str,
    query: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Settlement]:
    from ediary_gql.schema.connection import to_connection
    from ediary_gql.schema.types.geo import Settlement

    ctx = info.context
    search = service.search_settlements(region_code.strip(), service.normalize_query(query))
    async with ctx.session_factory() as session:
        await service.require_region(session, region_code)
        page = await paginate(
            session,
            search.stmt,
            key=search.key,
            key_of=search.key_of,
            args=PageArgs(first=first, after=after),
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )
    return to_connection(page, Settlement.from_row)
