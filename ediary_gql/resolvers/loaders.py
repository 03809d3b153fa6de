"""Per-request DataLoaders. Each batch opens its own short session: an
AsyncSession must not be shared by the concurrently resolved fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from ediary_gql.db.base import Base
from ediary_gql.db.partitioning import partition_key

M = TypeVar("M", bound=Base)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoaderKey(Generic[K, V]):
    """The typed name of a loader whose batch is made per request (`Loaders.get`): a
    module-level constant, so two loaders never share a key by accident."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"LoaderKey({self.name!r})"


RowLoaders = dict[Hashable, DataLoader[Any, Any]]


class Loaders:
    """A registry of loaders for one request (or one subscription event).

    `rows`, if given, holds the row loaders (`by_id`, `grouped`) shared with others: every
    subscriber of the process handling the same event reads a row once between them
    (resolvers/shared_reads.py). Rows are the same for every viewer, and what may be seen
    of them is decided per viewer above the loaders; loaders whose batch closes over the
    request (`get`, e.g. over its actor) are never shared."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, rows: RowLoaders | None = None) -> None:
        self.session_factory = session_factory
        self._loaders: RowLoaders = {}
        self._rows: RowLoaders = self._loaders if rows is None else rows

    def get(self, key: LoaderKey[K, V], batch: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        """The loader registered under `key`, made from `batch` on first use (for a batch
        that closes over the request, e.g. its actor)."""
        return self._registered(key, batch)

    def by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        """Rows of `model` by primary key; None for ids that do not exist."""

        async def batch(ids: list[int]) -> list[M | None]:
            async with self.session_factory() as session:
                rows = await session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
                found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(i) for i in ids]

        return self._registered(("by_id", model), batch, self._rows)

    def by_partition(self, model: type[M]) -> DataLoader[tuple[int, int], M | None]:
        """Rows of a partitioned `model` (db/partitioning.py) by (partition key, id), so that
        PostgreSQL reads only their partitions; None for pairs that do not exist."""
        key = partition_key(cast(Table, model.__table__))
        if key is None:
            raise TypeError(f"{model.__name__} is not partitioned")

        async def batch(keys: list[tuple[int, int]]) -> list[M | None]:
            column, ids = getattr(model, key), getattr(model, "id")  # noqa: B009 - any model's id
            async with self.session_factory() as session:
                rows = await session.scalars(
                    select(model).where(column.in_(sorted({k for k, _ in keys})), ids.in_(sorted({i for _, i in keys})))
                )
                found = {(getattr(row, key), row.id): row for row in rows}  # type: ignore[attr-defined]
            return [found.get(k) for k in keys]

        return self._registered(("by_partition", model), batch, self._rows)

    def grouped(
        self, query: Callable[[AsyncSession, list[K]], Awaitable[Sequence[tuple[K, V]]]]
    ) -> DataLoader[K, list[V]]:
        """One-to-many: `query` returns (parent key, value) pairs for all keys at once. The
        query itself is the loader's key: one loader per query function and request."""

        async def batch(keys: list[K]) -> list[list[V]]:
            async with self.session_factory() as session:
                pairs = await query(session, keys)
            groups: dict[K, list[V]] = {k: [] for k in keys}
            for parent, value in pairs:
                groups.setdefault(parent, []).append(value)
            return [groups[k] for k in keys]

        return self._registered(("grouped", query), batch, self._rows)

    def _registered(
        self,
        key: Hashable,
        batch: Callable[[list[K]], Awaitable[Sequence[V]]],
        registry: RowLoaders | None = None,
    ) -> DataLoader[K, V]:
        loaders = self._loaders if registry is None else registry
        loader = loaders.get(key)
        if loader is None:
            loader = DataLoader(load_fn=batch)
            loaders[key] = loader
        return cast(DataLoader[K, V], loader)
