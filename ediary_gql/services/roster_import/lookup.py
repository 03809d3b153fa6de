"""Matching rows to what exists: bulk reads by sourcedId, id or contact, a handful of
statements per file whatever its length."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.users import User

CHUNK = 5_000  # ids per IN (...) list: well under every backend's parameter limit

T = TypeVar("T", bound=Base)


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def by_external_id(session: AsyncSession, model: type[T], school_id: int, ids: Iterable[str]) -> dict[str, T]:
    found: dict[str, T] = {}
    column = model.external_id  # type: ignore[attr-defined]
    for chunk in chunks(ids):
        rows = await session.scalars(select(model).where(model.school_id == school_id, column.in_(chunk)))  # type: ignore[attr-defined]
        found.update({r.external_id: r for r in rows})  # type: ignore[attr-defined]
    return found


async def roster_links(session: AsyncSession, school_id: int, kind: str, ids: Iterable[str]) -> dict[str, RosterLink]:
    found: dict[str, RosterLink] = {}
    for chunk in chunks(ids):
        rows = await session.scalars(
            select(RosterLink).where(
                RosterLink.school_id == school_id, RosterLink.kind == kind, RosterLink.external_id.in_(chunk)
            )
        )
        found.update({r.external_id: r for r in rows})
    return found


async def users_by_contacts(
    session: AsyncSession, phones: Iterable[str], emails: Iterable[str]
) -> tuple[dict[str, User], dict[str, User]]:
    by_phone: dict[str, User] = {}
    by_email: dict[str, User] = {}
    for chunk in chunks(set(phones)):
        by_phone.update(
            {u.phone: u for u in await session.scalars(select(User).where(User.phone.in_(chunk))) if u.phone}
        )
    for chunk in chunks(set(emails)):
        by_email.update(
            {u.email: u for u in await session.scalars(select(User).where(User.email.in_(chunk))) if u.email}
        )
    return by_phone, by_email


async def by_ids(session: AsyncSession, model: type[T], ids: Iterable[int]) -> dict[int, T]:
    found: dict[int, T] = {}
    for chunk in chunks(set(ids)):
        found.update({r.id: r for r in await session.scalars(select(model).where(model.id.in_(chunk)))})  # type: ignore[attr-defined]
    return found


def assign(row: Any, values: dict[str, Any]) -> bool:
    """Give `row` these values; True if anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed
