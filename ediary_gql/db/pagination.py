"""Keyset (cursor) pagination: pages by the sort key, never by offset.

Lists that change while people read them (grades, queues, inboxes) stay
consistent page to page, and no page ever loads the whole table.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ediary_gql.db.ids import in_range
from ediary_gql.errors import DomainError, ErrorCode

T = TypeVar("T")

DEFAULT_PAGE = 20


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(slots=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _storable(value: Any) -> bool:
    """A value a keyset comparison can bind: no integer beyond BIGINT, no NUL in text."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return in_range(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(isinstance(v, str) and "\x00" not in v for v in value.values())
    return isinstance(value, float)


def decode_cursor(cursor: str, size: int, argument: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != size or not all(map(_storable, values)):
            raise ValueError
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError):
        raise DomainError(ErrorCode.INVALID, "Некорректный курсор", field=argument) from None


def check_args(args: PageArgs, page_max: int) -> tuple[int, bool]:
    """(page size, backwards?) from Relay arguments, refusing what is out of bounds."""
    if args.first is not None and args.last is not None:
        raise DomainError(ErrorCode.INVALID, "Укажите только first или только last", field="last")
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= page_max:
            raise DomainError(ErrorCode.INVALID, f"Размер страницы должен быть от 0 до {page_max}", field=name)
    if args.last is not None:
        return args.last, True
    return (args.first if args.first is not None else min(DEFAULT_PAGE, page_max)), False


def _beyond(
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]], values: Sequence[Any], *, older: bool
) -> list[ColumnElement[bool]]:
    """The rows past a cursor: below it (`older`) or above it in key order. The leading
    column is bounded alone too (implied by the row comparison): PostgreSQL neither
    prunes partitions nor bounds an index range by a row comparison."""
    conds = [tuple_(*key) < tuple_(*values) if older else tuple_(*key) > tuple_(*values)]
    if len(key) > 1 and values[0] is not None:
        conds.append(key[0] <= values[0] if older else key[0] >= values[0])
    return conds


async def paginate(
    session: AsyncSession,
    stmt: Select[T],
    *,
    key: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    key_of: Callable[[T], Sequence[Any]],
    args: PageArgs,
    page_max: int,
    descending: bool = False,
    count_session: Callable[[], Any] | None = None,
) -> Page[T]:
    """One page of `stmt` ordered by `key` (unique, e.g. ending in the primary key).

    `key_of(row)` gives a row's key values for its cursor. `count_session`,
    when given, opens a session for a lazily run totalCount query.
    """
    size, backwards = check_args(args, page_max)
    base = stmt
    reverse = descending != backwards  # SQL order of this fetch
    if args.after is not None:
        values = decode_cursor(args.after, len(key), "after")
        stmt = stmt.where(*_beyond(key, values, older=descending))
    if args.before is not None:
        values = decode_cursor(args.before, len(key), "before")
        stmt = stmt.where(*_beyond(key, values, older=not descending))
    order = [k.desc() if reverse else k.asc() for k in key]
    # the key alone orders the page: an ORDER BY the query brought would come first and break the keyset
    fetched = list((await session.scalars(stmt.order_by(None).order_by(*order).limit(size + 1))).all())

    async def count() -> int:
        count_stmt = select(func.count()).select_from(base.order_by(None).subquery())
        if count_session is None:
            return int((await session.execute(count_stmt)).scalar_one())
        async with count_session() as s:
            return int((await s.execute(count_stmt)).scalar_one())

    return page_of(fetched, size=size, args=args, key_of=key_of, count=count)


def page_of(
    fetched: Sequence[T],
    *,
    size: int,
    args: PageArgs,
    key_of: Callable[[T], Sequence[Any]],
    count: Callable[[], Awaitable[int]],
) -> Page[T]:
    """A page from up to `size + 1` rows fetched in the order of the fetch (reversed for `last`).

    pageInfo as the Relay cursor spec gives it: the extra row says whether there is more in
    the direction of paging; a cursor given on the other side says there is something there.
    """
    backwards = args.last is not None
    more = len(fetched) > size
    rows = list(fetched[:size])
    if backwards:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[encode_cursor(key_of(r)) for r in rows],
        has_next_page=(more and not backwards) or args.before is not None,
        has_previous_page=(more and backwards) or args.after is not None,
        count=count,
    )
