"""The directory of regions (subjects of the Russian Federation) and settlements.

The data ships with the package (`ediary_gql/data/regions.csv`,
`settlements.csv`); `load_directory` puts it into the reference tables as an
idempotent upsert — regions by code, settlements by (region, normalised
name) — so it runs after every migration and next to rows others made (the
demo seed's Moscow) without duplicating them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Select, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.db.models.geo import Region, Settlement, normalize_name
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.text import is_digits

MAX_QUERY_LENGTH = 100


@dataclass(frozen=True, slots=True)
class RegionData:
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class SettlementData:
    region_code: str
    name: str
    kind: str
    okato: str | None
    oktmo: str | None


@dataclass(frozen=True, slots=True)
class LoadStats:
    regions_added: int
    settlements_added: int
    settlements_updated: int


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("ediary_gql.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def shipped_regions() -> list[RegionData]:
    return [RegionData(code=r["code"], name=r["name"], kind=r["kind"]) for r in _read_csv("regions.csv")]


def shipped_settlements() -> list[SettlementData]:
    return [
        SettlementData(
            region_code=r["region_code"],
            name=r["name"],
            kind=r["kind"],
            okato=r["okato"] or None,
            oktmo=r["oktmo"] or None,
        )
        for r in _read_csv("settlements.csv")
    ]


async def load_directory(session: AsyncSession) -> LoadStats:
    """Insert what is missing and correct what differs; never deletes (schools refer to
    settlements). The caller commits."""
    regions = {r.code: r for r in (await session.scalars(select(Region))).all()}
    added_regions = 0
    for data in shipped_regions():
        row = regions.get(data.code)
        if row is None:
            session.add(Region(code=data.code, name=data.name, kind=data.kind))
            added_regions += 1
        elif (row.name, row.kind) != (data.name, data.kind):
            row.name, row.kind = data.name, data.kind
    await session.flush()

    existing: dict[tuple[str, str], Settlement] = {}
    for place in (await session.scalars(select(Settlement).order_by(Settlement.id))).all():
        existing.setdefault((place.region_code, place.name_normalized), place)
    added = updated = 0
    for item in shipped_settlements():
        key = (item.region_code, normalize_name(item.name))
        found = existing.get(key)
        if found is None:
            found = Settlement(
                region_code=item.region_code,
                name=item.name,
                name_normalized=key[1],
                kind=item.kind,
                okato=item.okato,
                oktmo=item.oktmo,
            )
            session.add(found)
            existing[key] = found
            added += 1
            continue
        changes = {"name": item.name, "kind": item.kind}
        # codes are filled in where the shipped data has them; others' codes are kept
        if item.okato:
            changes["okato"] = item.okato
        if item.oktmo:
            changes["oktmo"] = item.oktmo
        if any(getattr(found, k) != v for k, v in changes.items()):
            for k, v in changes.items():
                setattr(found, k, v)
            updated += 1
    await session.flush()
    return LoadStats(regions_added=added_regions, settlements_added=added, settlements_updated=updated)


# --- reading ----------------------------------------------------------------------


def regions_query() -> Select[Region]:
    return select(Region).order_by(Region.code)


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def normalize_query(raw: str | None, *, field: str = "query") -> str | None:
    """A search text as the names are stored (lower case, ё as е); None when empty."""
    value = normalize_name(raw or "")
    if len(value) > MAX_QUERY_LENGTH:
        raise DomainError(ErrorCode.TOO_LONG, f"Не длиннее {MAX_QUERY_LENGTH} символов", field=field)
    return value or None


# Word boundaries inside a name: "нижний новгород", "ростов-на-дону".
WORD_SEPARATORS = (" ", "-", "(", "«", '"')


def word_prefix_match(column: ColumnElement[str] | InstrumentedAttribute[str], query: str) -> ColumnElement[bool]:
    """`column` (normalised) has a word that starts with `query` (normalised)."""
    pattern = escape_like(query)
    return or_(
        column.like(f"{pattern}%", escape="\\"),
        *(column.like(f"%{escape_like(sep)}{pattern}%", escape="\\") for sep in WORD_SEPARATORS),
    )


async def require_region(session: AsyncSession, code: str, *, field: str = "regionCode") -> Region:
    region = await session.get(Region, code.strip()) if is_digits(code.strip()) else None
    if region is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Регион с таким кодом не найден", field=field)
    return region


@dataclass(frozen=True, slots=True)
class SettlementSearch:
    """A search as a statement with its keyset: `key` columns and `key_of(row)` values."""

    stmt: Select[Settlement]
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]]
    key_of: Callable[[Settlement], list[Any]]


def search_settlements(region_code: str, query: str | None) -> SettlementSearch:
    """Settlements of a region whose name has a word starting with `query` (normalised):
    names that start with it first, then by name."""
    stmt = select(Settlement).where(Settlement.region_code == region_code)
    if query is None:
        return SettlementSearch(
            stmt=stmt,
            key=[Settlement.name_normalized, Settlement.id],
            key_of=lambda row: [row.name_normalized, row.id],
        )
    starts = Settlement.name_normalized.like(f"{escape_like(query)}%", escape="\\")
    return SettlementSearch(
        stmt=stmt.where(word_prefix_match(Settlement.name_normalized, query)),
        key=[case((starts, 0), else_=1), Settlement.name_normalized, Settlement.id],
        key_of=lambda row: [0 if row.name_normalized.startswith(query) else 1, row.name_normalized, row.id],
    )
