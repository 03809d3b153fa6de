"""Per-request DataLoaders. Each batch opens its own short session: an
AsyncSession must not be shared by the concurrently resolved fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from ediary_gql.db.base import Base

M = TypeVar("M", bound=Base)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loaders:
    """A registry of loaders for one request (or one subscription event)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def get(self, key: Hashable, batch: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        """The loader registered under `key`, made from `batch` on first use."""
        loader = self._loaders.get(key)
        if loader is None:
            loader = DataLoader(load_fn=batch)
            self._loaders[key] = loader
        return cast(DataLoader[K, V], loader)

    def by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        """Rows of `model` by primary key; None for ids that do not exist."""

        async def batch(ids: list[int]) -> list[M | None]:
            async with self.session_factory() as session:
                rows = await session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
                found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(i) for i in ids]

        return self.get(("by_id", model), batch)

    def grouped(
        self,
        key: Hashable,
        query: Callable[[AsyncSession, list[K]], Awaitable[Sequence[tuple[K, V]]]],
    ) -> DataLoader[K, list[V]]:
        """One-to-many: `query` returns (parent key, value) pairs for all keys at once."""

        async def batch(keys: list[K]) -> list[list[V]]:
            async with self.session_factory() as session:
                pairs = await query(session, keys)
            groups: dict[K, list[V]] = {k: [] for k in keys}
            for parent, value in pairs:
                groups.setdefault(parent, []).append(value)
            return [groups[k] for k in keys]

        return self.get(key, batch)
