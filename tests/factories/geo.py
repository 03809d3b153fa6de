"""Regions and settlements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.geo import Region, Settlement, normalize_name
from tests.factories._base import fake, persist, take_parents

# The region settlements go to unless one is given (made on first use). It is not one
# of the 89 real subjects, so made-up towns (which outlive a test: settlements are
# reference data) never show up in searches of the shipped directory.
DEFAULT_REGION = {"code": "99", "name": "Тестовая область", "kind": "область"}


def _region_kind(name: str) -> str:
    for marker, kind in (
        ("респ.", "республика"),
        ("АО", "автономный округ"),
        ("обл.", "автономная область"),
        ("край", "край"),
    ):
        if marker in name:
            return kind
    return "область"


async def make_region(session: AsyncSession, **overrides: Any) -> Region:
    """A region with the first free two-digit code (or the `code` given)."""
    o = take_parents(overrides)
    if "code" not in o:
        taken = set((await session.scalars(select(Region.code))).all())
        o["code"] = next(f"{c:02d}" for c in range(1, 100) if f"{c:02d}" not in taken)
    name = fake.region()
    fields: dict[str, Any] = {"name": name, "kind": _region_kind(name)}
    fields.update(o)
    return await persist(session, Region(**fields))


async def default_region(session: AsyncSession) -> Region:
    region = await session.get(Region, DEFAULT_REGION["code"])
    return region or await make_region(session, **DEFAULT_REGION)


async def make_settlement(session: AsyncSession, **overrides: Any) -> Settlement:
    o = take_parents(overrides)
    if "region_code" not in o:
        o["region_code"] = (await default_region(session)).code
    name = o.get("name") or fake.city_name().split(" (")[0]
    fields: dict[str, Any] = {
        "name": name,
        "name_normalized": normalize_name(name),
        "kind": "город",
        "okato": "46" + f"{fake.random_number(digits=9, fix_len=True)}",
        "oktmo": f"{fake.random_number(digits=8, fix_len=True)}",
    }
    fields.update(o)
    return await persist(session, Settlement(**fields))
