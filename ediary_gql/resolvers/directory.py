"""The directory: regions and settlements (public). Results are rows and pages, turned
into types by schema/directory.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ediary_gql.db.models.geo import Region
from ediary_gql.db.pagination import Page, PageArgs, paginate
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.services import directory as service

if TYPE_CHECKING:
    from ediary_gql.context import Context


REGIONS_BY_CODE: LoaderKey[str, Region | None] = LoaderKey("directory.regions_by_code")


async def regions_by_code(context: Context, codes: Sequence[str]) -> list[Region | None]:
    """Regions by code through a per-request loader (a region's key is its code)."""

    async def batch(keys: list[str]) -> list[Region | None]:
        async with context.session_factory() as session:
            rows = await session.scalars(select(Region).where(Region.code.in_(keys)))
            found = {row.code: row for row in rows}
        return [found.get(k) for k in keys]

    loader = context.loaders.get(REGIONS_BY_CODE, batch)
    return list(await loader.load_many(list(codes)))


async def regions(ctx: Context) -> list[Region]:
    async with ctx.session_factory() as session:
        return list((await session.scalars(service.regions_query())).all())


async def settlements(ctx: Context, *, region_code: str, query: str | None, paging: PageArgs) -> Page[Any]:
    search = service.search_settlements(region_code.strip(), service.normalize_query(query))
    async with ctx.session_factory() as session:
        await service.require_region(session, region_code)
        return await paginate(
            session,
            search.stmt,
            key=search.key,
            key_of=search.key_of,
            args=paging,
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )
