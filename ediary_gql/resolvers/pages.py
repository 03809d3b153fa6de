"""A page of a list root field: keyset pagination (db/pagination.py) with the request's
page cap, in a session of its own, and its total counted only if asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.db.pagination import Page, PageArgs, paginate

if TYPE_CHECKING:
    from ediary_gql.context import Context

T = TypeVar("T")


async def page(
    ctx: Context,
    stmt: Select[T],
    args: PageArgs,
    *,
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] | None = None,
    key_of: Callable[[T], Sequence[Any]] | None = None,
    descending: bool = False,
) -> Page[T]:
    """One page of `stmt`, ordered by `key` (by default the id of the rows' table)."""
    if key is None:
        key = [stmt.column_descriptions[0]["entity"].id]
    async with ctx.session_factory() as session:
        return await paginate(
            session,
            stmt,
            key=key,
            key_of=key_of or (lambda row: [row.id]),  # type: ignore[attr-defined]  # a table's row
            args=args,
            page_max=ctx.settings.page_max,
            descending=descending,
            count_session=ctx.session_factory,
        )
